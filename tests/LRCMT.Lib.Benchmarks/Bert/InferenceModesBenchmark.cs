using LRCMT.Benchmarks.Harness;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Bert;

/// <summary>Inference of a whole encoder: the base model, LoRA unmerged, LoRA merged (target merged/base <= 1.02x).</summary>
public sealed class InferenceModesBenchmark : IBenchmarkGroup
{
    private const long Batch = 8, Seq = 64;

    public string Name => "inference-modes";

    public string Description => $"MiniLM-sized BertModel forward on [{Batch}, {Seq}], no grad: base vs LoRA q+v r8 unmerged vs merged";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        var config = BertSizes.MiniLM();
        var ids = randint(1, config.VocabSize, [Batch, Seq]);
        var mask = ones(Batch, Seq, ScalarType.Int64);

        yield return Case("base BertModel", Model(config, adapters: false, merge: false), ids, mask);
        yield return Case("LoRA q+v r8, unmerged", Model(config, adapters: true, merge: false), ids, mask);
        yield return Case("LoRA q+v r8, merged", Model(config, adapters: true, merge: true), ids, mask);
    }

    private static BertModel Model(BertConfig config, bool adapters, bool merge)
    {
        torch.manual_seed(6);
        var model = new BertModel(config);
        if (adapters) LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] });
        if (merge) MergedModel.MergeAll(model);
        model.eval();
        return model;
    }

    private static BenchmarkCase Case(string name, BertModel model, Tensor ids, Tensor mask)
        => new(name, () => { using var _ = no_grad(); model.call(ids, mask, null); }, model);
}
