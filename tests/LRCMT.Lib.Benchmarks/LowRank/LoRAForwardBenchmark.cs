using LRCMT.Benchmarks.Harness;
using LRCMT.LowRank;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.LowRank;

/// <summary>Inference cost of the adapter path: plain Linear vs LoRALinear unmerged vs merged (and DoRA).</summary>
public sealed class LoRAForwardBenchmark : IBenchmarkGroup
{
    private const long Width = 768, Batch = 32, Seq = 50;
    private const int Rank = 8;

    public string Name => "lora-forward";

    public string Description => $"forward of a {Width}x{Width} projection on [{Batch}, {Seq}, {Width}], no grad, r={Rank}";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        torch.manual_seed(1);
        var input = torch.randn(Batch, Seq, Width);

        var linear = nn.Linear(Width, Width);
        yield return Case("nn.Linear", linear, input);

        var unmerged = Adapted(useDora: false);
        yield return Case($"LoRALinear r={Rank}, unmerged", unmerged, input);

        var merged = Adapted(useDora: false);
        merged.Merge();
        yield return Case($"LoRALinear r={Rank}, merged", merged, input);

        var dora = Adapted(useDora: true);
        yield return Case($"LoRALinear r={Rank} DoRA, unmerged", dora, input);
    }

    private static LoRALinear Adapted(bool useDora)
    {
        var layer = new LoRALinear(nn.Linear(Width, Width));
        layer.AddAdapter("default", new LoRAConfig { Rank = Rank, Alpha = 16, UseDora = useDora, Init = LoRAInit.BothRandom });
        return layer;
    }

    private static BenchmarkCase Case(string name, nn.Module<Tensor, Tensor> module, Tensor input)
    {
        module.eval();
        return new BenchmarkCase(name, () =>
        {
            using var noGrad = torch.no_grad();
            module.call(input);
        }, module);
    }
}
