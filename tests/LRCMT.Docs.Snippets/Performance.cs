// docs/performance.md
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Training;

namespace LRCMT.Docs.Snippets;

internal static class Performance
{
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
