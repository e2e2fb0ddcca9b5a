// docs/performance.md
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.TextEncoders;

namespace LRCMT.Docs.Snippets;

internal static class Performance
{
    internal static void HalfPrecisionBase()
    {
        var model = new LrcmtBuilder()
            .WithPretrainedEncoder("bert-base-uncased")
            .WithLoRA(new LoRAConfig { Rank = 8, TargetModules = ["query", "value"] })
            .WithBaseDType(BaseDType.BFloat16)   // options: TextEncoder:BaseDType = "BFloat16"; CLI: --base-dtype bf16
            .Build();
    }
}
