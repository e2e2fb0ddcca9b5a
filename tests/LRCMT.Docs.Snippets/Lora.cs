// docs/lora.md
using LRCMT.LowRank;
using LRCMT.TextEncoders;

namespace LRCMT.Docs.Snippets;

internal static class Lora
{
    internal static void Cycle(BertModel bert)
    {
        var report = LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        Console.WriteLine(report);   // adapted modules, then: trainable params: … || all params: … || trainable%: …
        PeftAdapterFile.Save(bert, "my-adapter");                 // adapter_model.safetensors + adapter_config.json
        MergedModel.Export(bert, "merged/model.safetensors");     // plain checkpoint, original names
    }
}
