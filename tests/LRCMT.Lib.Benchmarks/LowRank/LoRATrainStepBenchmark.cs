using LRCMT.Benchmarks.Harness;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.LowRank;

/// <summary>One optimiser step of a small Transformer encoder: full fine-tuning vs LoRA on the attention projections.</summary>
public sealed class LoRATrainStepBenchmark : IBenchmarkGroup
{
    private const long Width = 128, Heads = 4, FeedForward = 512, Seq = 32, Batch = 8;
    private const int Layers = 2;

    public string Name => "lora-train-step";

    public string Description =>
        $"AdamW step (forward, backward, update) of nn.TransformerEncoder d={Width} h={Heads} ff={FeedForward} x{Layers} on [{Seq}, {Batch}, {Width}]";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        torch.manual_seed(2);
        var input = torch.randn(Seq, Batch, Width);

        var native = NativeEncoder();
        yield return Step("full fine-tuning, native encoder", native, native.parameters(), input);

        var managed = NativeTransformerConverter.ToManaged(NativeEncoder(), Options);
        yield return Step("full fine-tuning, managed encoder", managed, managed.parameters(), input);

        foreach (var targets in new[] { new[] { "in_proj.q", "in_proj.v" }, new[] { "in_proj.q", "in_proj.k", "in_proj.v", "out_proj", "linear1", "linear2" } })
        {
            var adapted = NativeTransformerConverter.ToManaged(NativeEncoder(), Options);
            var report = LowRankInjector.Inject(adapted, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = [.. targets] });
            yield return Step($"LoRA r=8 on {string.Join("+", targets)} ({report.Parameters.TrainablePercent:F1}% trainable)",
                adapted, adapted.parameters().Where(p => p.requires_grad), input);
        }
    }

    private static readonly NativeTransformerOptions Options = new(Heads, nn.Activations.ReLU, 0.1);

    private static TorchSharp.Modules.TransformerEncoder NativeEncoder()
        => nn.TransformerEncoder(nn.TransformerEncoderLayer(Width, Heads, FeedForward, 0.1), Layers);

    private static BenchmarkCase Step(string name, nn.IModule<Tensor, Tensor> model, IEnumerable<TorchSharp.Modules.Parameter> trainable, Tensor input)
    {
        var module = (nn.Module)model;
        module.train();
        var optimizer = torch.optim.AdamW(trainable.ToList(), 1e-4);
        return new BenchmarkCase(name, () =>
        {
            optimizer.zero_grad();
            var loss = model.call(input).pow(2).mean();
            loss.backward();
            optimizer.step();
        }, optimizer, module);
    }
}
