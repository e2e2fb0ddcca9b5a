// docs/lora.md
using LRCMT.Data;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Docs.Snippets;

internal static class Lora
{
    internal static void Cycle(BertModel bert)
    {
        var report = LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        Console.WriteLine(report);   // adapted modules, then: trainable params: … || all params: … || trainable%: …
        LoRAConfig record = bert.GetAdapterConfig("default");     // PEFT's peft_config["default"]
        PeftAdapterFile.Save(bert, "my-adapter");                 // adapter_model.safetensors + adapter_config.json (the record)
        MergedModel.Export(bert, "merged/model.safetensors");     // plain checkpoint, original names
    }

    internal static void RefreshWays(nn.Module encoder, LoRAConfig config, InjectionReport report, Tensor x, Tensor y)
    {
        // 1. Strict: refuse (AdapterException naming the layers, the reason and the fix; nothing changes) instead of reporting.
        var strict = LowRankInjector.Inject(encoder, config, options: new InjectionOptions { RequireAutomaticRefresh = true });

        // 2. The wrapper: its forward runs RefreshAdapters, then the model's own call with the same arguments.
        var trainable = report.AsTrainable<Tensor, Tensor>();          // AsTrainable<T1, T2, TResult>() … up to six inputs
        var optimizer = torch.optim.AdamW(trainable.parameters().Where(p => p.requires_grad), 1e-3);
        var loss = nn.functional.mse_loss(trainable.call(x), y);

        // 3. By hand, before each forward.
        LowRankInjector.RefreshAdapters(encoder);
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

    internal static void LoadIntoNative(TorchSharp.Modules.TransformerEncoder nativeEncoder)
    {
        var loaded = PeftAdapterFile.Load(nativeEncoder, "my-adapter");   // injects from adapter_config.json if needed
        var model = loaded.Model;                                          // the managed twin when nativeEncoder was native
    }

    internal static void Verbs(TorchSharp.torch.nn.Module model)
    {
        var configs = model.AdapterConfigs();         // PEFT's peft_config: each adapter's record
        model.SetAdapter("b");                        // PEFT set_adapter: layers without "b" compute the base projection
        using (model.DisableAdapters()) { /* base */ } // PEFT disable_adapter(): restored on dispose
        model.DeleteAdapter("a");                     // PEFT delete_adapter
        var plain = model.MergeAndUnload();           // plain nn.Linear modules, merged weights, the base model's state-dict keys
        Console.WriteLine(plain);
    }

    internal static void MixedBatch(nn.Module<Tensor, Tensor> model, Tensor batch)
    {
        model.eval();
        using (model.AdaptersPerSample(["sentiment", AdapterControl.BaseAdapterName, "emotion"]))
        {
            var mixed = model.call(batch);              // sample 0 with "sentiment", 1 with the base model, 2 with "emotion"
        }
    }

    internal static void Combine(nn.Module model)
    {
        LoRAConfig merged = model.AddWeightedAdapter(["sentiment", "emotion"], [1.0, -0.5], "mix",
            new AdapterCombination { Method = AdapterCombinationMethod.DareTies, Density = 0.5, Seed = 7 });
        model.SetAdapter("mix");
    }

    internal static void HotSwap(nn.Module model)
    {
        PeftAdapterFile.Load(model, "adapters/customer-a");      // the slot "default", injected once (rank 16)
        PeftAdapterFile.HotSwap(model, "adapters/customer-b");   // same modules, rank ≤ 16: weights replaced in place
    }

    internal static void Principal(BertModel bert)
    {
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 8, Init = LoRAInit.PiSSA, PissaIterations = 4, TargetModules = ["query", "value"] });
        PeftAdapterFile.Save(bert, "pissa-init");                          // A₀, B₀ before training
        // … train …
        PeftAdapterFile.SaveConvertedToLoRA(bert, "pissa-as-lora", "pissa-init");   // loads onto the unchanged base model
    }

    internal static void LoraPlus(LRCMTModel lrcmt, MultimodalDataLoader train, MultimodalDataLoader valid, nn.Module model)
    {
        var options = new TrainerOptions { AdapterLearningRate = 2e-4, LoraPlusRatio = 16 };
        var result = new Trainer(options).Fit(lrcmt, train, valid);                 // the library's trainer

        var groups = new Trainer(options).ParameterGroupsOf(model);                 // or your own optimizer
        var optimizer = torch.optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr: g.LearningRate)));
    }
}
