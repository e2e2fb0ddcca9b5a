using LRCMT.Benchmarks.Harness;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Bert;

/// <summary>The library's BertModel vs <see cref="PlainBert"/> of the same shape: forward (no grad) and forward+backward.</summary>
public sealed class BertOverheadBenchmark : IBenchmarkGroup
{
    private const long Batch = 8, Seq = 64;

    public string Name => "bert-overhead";

    public string Description => $"MiniLM-sized encoder (6x384) on [{Batch}, {Seq}]: library BertModel vs a plain TorchSharp BERT (target <= 1.05x)";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        torch.manual_seed(3);
        var config = BertSizes.MiniLM();
        var ids = randint(1, config.VocabSize, [Batch, Seq]);
        var mask = ones(Batch, Seq, ScalarType.Int64);

        var plain = new PlainBert(config);
        plain.eval();
        yield return new BenchmarkCase("plain BERT forward, no grad", () => { using var _ = no_grad(); plain.call(ids, mask); }, plain);

        var library = new BertModel(config);
        library.eval();
        yield return new BenchmarkCase("library BertModel forward, no grad", () => { using var _ = no_grad(); library.call(ids, mask, null); }, library);

        var plainTrain = new PlainBert(config);
        plainTrain.train();
        yield return new BenchmarkCase("plain BERT forward+backward", () => plainTrain.call(ids, mask).pow(2).mean().backward(), plainTrain);

        var libraryTrain = new BertModel(config);
        libraryTrain.train();
        yield return new BenchmarkCase("library BertModel forward+backward", () => libraryTrain.call(ids, mask, null).LastHiddenState.pow(2).mean().backward(), libraryTrain);
    }
}
