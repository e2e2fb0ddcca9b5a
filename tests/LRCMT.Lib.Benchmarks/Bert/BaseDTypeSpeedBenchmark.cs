using LRCMT.Benchmarks.Harness;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Bert;

/// <summary>Speed of a bf16 (and fp16) frozen base against fp32, LoRA forward+backward, on this CPU.</summary>
public sealed class BaseDTypeSpeedBenchmark : IBenchmarkGroup
{
    private const long Batch = 8, Seq = 64;

    public string Name => "base-dtype";

    public string Description => $"MiniLM-sized BertModel + LoRA q+v r8 forward+backward on [{Batch}, {Seq}]: fp32 vs bf16 vs fp16 frozen base";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        var config = BertSizes.MiniLM();
        var ids = randint(1, config.VocabSize, [Batch, Seq]);
        var mask = ones(Batch, Seq, ScalarType.Int64);
        foreach (var dtype in new[] { BaseDType.Float32, BaseDType.BFloat16, BaseDType.Float16 })
        {
            torch.manual_seed(7);
            var model = new BertModel(config);
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
            BasePrecision.Apply(model, dtype);
            model.train();
            yield return new BenchmarkCase($"LoRA step, {dtype} base", () =>
                model.call(ids, mask, null).LastHiddenState.to(ScalarType.Float32).pow(2).mean().backward(), model);
        }
    }
}
