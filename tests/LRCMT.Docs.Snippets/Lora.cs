// docs/lora.md
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

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

    internal static void RegisterLinearLike()
    {
        // Your own (or a package's) linear-like module: weight kept as a buffer, y = x·Wᵀ + b.
        LinearLikeModules.Register<FrozenLinear>(new LinearLikeSpec(WeightName: "weight", BiasName: "bias"));
        // GPT-2's Conv1D stores the weight [in, out] and computes x·W + b:
        LinearLikeModules.Register<Conv1D>(new LinearLikeSpec("weight", "bias", WeightIsInputByOutput: true));
    }

    // Stand-ins for the modules the document talks about (the reader's own types).
    private sealed class FrozenLinear() : nn.Module<Tensor, Tensor>(nameof(FrozenLinear))
    {
        public override Tensor forward(Tensor input) => input;
    }

    private sealed class Conv1D() : nn.Module<Tensor, Tensor>(nameof(Conv1D))
    {
        public override Tensor forward(Tensor input) => input;
    }

    internal static void Verbs(TorchSharp.torch.nn.Module model)
    {
        model.SetAdapter("b");                        // PEFT set_adapter: layers without "b" compute the base projection
        using (model.DisableAdapters()) { /* base */ } // PEFT disable_adapter(): restored on dispose
        model.DeleteAdapter("a");                     // PEFT delete_adapter
        var plain = model.MergeAndUnload();           // plain nn.Linear modules, merged weights, the base model's state-dict keys
        Console.WriteLine(plain);
    }
}
