// docs/performance.md
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;

namespace LRCMT.Docs.Snippets;

internal static class Performance
{
    internal static void OwnLoop(TorchSharp.torch.nn.Module model, Func<TorchSharp.torch.nn.Module, TorchSharp.torch.Tensor> Loss, int steps)
    {
        NativeHeap.Apply(HeapPolicy.Training);   // whole-encoder fine-tuning: the heap stays flat (process-wide; glibc only)
        using var optimizer = new LeanAdamW(model.parameters().Where(p => p.requires_grad), lr: 2e-5, weight_decay: 0.01);
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();          // releases the gradients (set_to_none)
            Loss(model).backward();
            optimizer.step();               // one parameter at a time, one temporary each
        }
    }

    internal static void Int8Base()
    {
        using var encoder = BertModel.FromPretrained("models/bert-base-uncased", BaseDType.Int8);
        LowRankInjector.Inject(encoder, new LoRAConfig { Rank = 8, TargetModules = ["query", "value"] });
    }

    internal static void InferenceHeap()
    {
        NativeHeap.Apply(HeapPolicy.Default);   // before the first forward: keep glibc's own heap (process-wide; glibc only)
        // or, without code: LRCMT_NATIVE_HEAP=manual; NativeHeap.Current tells which policy is in force
    }

    internal static void NativeHeapGrowth()
    {
        // once, at start-up of a process that fine-tunes a whole encoder (process-wide; does nothing off glibc)
        bool applied = NativeHeap.LimitGrowth();
        // or let the trainer do it when training starts
        var trainer = new Trainer(new TrainerOptions { LimitNativeHeapGrowth = true });
    }

    internal static void HalfPrecisionBase()
    {
        var model = new LrcmtBuilder()
            .WithPretrainedEncoder("bert-base-uncased")
            .WithLoRA(new LoRAConfig { Rank = 8, TargetModules = ["query", "value"] })
            .WithBaseDType(BaseDType.BFloat16)   // options: TextEncoder:BaseDType = "BFloat16"; CLI: --base-dtype bf16
            .Build();
    }
}
