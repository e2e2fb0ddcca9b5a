using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank.Substitution;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace LRCMT.LowRank;

/// <summary>
/// One place that will receive the adapter. <see cref="Check"/> runs for every target before any
/// <see cref="Apply"/>, and changes nothing, so a failing injection leaves the model as it was.
/// </summary>
internal abstract record InjectionTarget(string Path, LoRAConfig Settings)
{
    public abstract (long In, long Out) Shape { get; }

    public abstract AdaptationMechanism Mechanism { get; }

    /// <summary>For a layer adapted in place: the module its parent invokes (whose forward reads the adapted weight); else null.</summary>
    public virtual nn.Module? AdaptedInPlace => null;

    public virtual void Check(string adapterName)
    {
        var (inFeatures, outFeatures) = Shape;
        if (SettingRules.RankFits(nameof(Settings.Rank), Settings.Rank, inFeatures, outFeatures) is { } problem)
            throw new InvalidConfigurationException($"LoRA adapter '{adapterName}' on '{Path}'", problem);
    }

    public AdaptedModule Apply(string adapterName, bool inConvertedModule)
    {
        var layer = Attach(adapterName);
        return new AdaptedModule(Path, layer.InFeatures, layer.OutFeatures, Settings.Rank, Settings.Alpha,
            layer.ScalingOf(adapterName), Settings.UseDora)
        { Mechanism = Mechanism, InConvertedModule = inConvertedModule };
    }

    protected abstract LoRALayer Attach(string adapterName);
}

/// <summary>
/// A <c>Linear</c> or registered linear-like module. Replaced by a <see cref="LoRALinear"/> when every slot of its
/// parent can hold one (the fast path); otherwise adapted in place by a <see cref="SubstitutedLinear"/>.
/// </summary>
internal sealed record LinearLikeTarget(string Path, LoRAConfig Settings, nn.Module Parent, string ChildName, nn.Module Module, LinearLikeSpec Spec)
    : InjectionTarget(Path, Settings)
{
    private ReplacementPlan? _plan;

    public override (long In, long Out) Shape
    {
        get
        {
            // Check() has made sure the weight exists and is 2-D.
            var w = (TorchSharp.torch.Tensor?)Module.get_parameter(Spec.WeightName) ?? Module.get_buffer(Spec.WeightName)!;
            return Spec.WeightIsInputByOutput ? (w.shape[0], w.shape[1]) : (w.shape[1], w.shape[0]);
        }
    }

    public override AdaptationMechanism Mechanism
        => Module is Linear && (_plan ??= ModuleReplacer.Plan(Parent, ChildName, Module, typeof(LoRALinear), Path)).Blocker is null
            ? AdaptationMechanism.Replacement
            : AdaptationMechanism.Substitution;

    public override nn.Module? AdaptedInPlace => Mechanism == AdaptationMechanism.Substitution ? Module : null;

    public override void Check(string adapterName)
    {
        if (Module is not Linear && SubstitutedLinear.Obstacle(Module, Spec) is { } obstacle)
            throw new AdapterException(Path, $"it is registered as linear-like, but {obstacle}");
        base.Check(adapterName);
        if (Mechanism == AdaptationMechanism.Replacement) return;

        if (Module is Linear && SubstitutedLinear.Obstacle(Module, Spec) is { } linearObstacle)
            throw new AdapterException(Path, $"{_plan!.BlockedSlot}, so it cannot be replaced, and it cannot be adapted in place either: {linearObstacle}");
        if (ModuleReplacer.Plan(Parent, ChildName, Module, typeof(SubstitutedLinear), Path).Registration is null)
            throw new AdapterException(Path, $"its parent ({Parent.GetType().Name}) does not register it as child '{ChildName}', so the adapter cannot be registered beside it.");
        if (Settings.Dropout > 0 && !Settings.AllowDropoutOnSubstitutedLayers)
            throw new InvalidConfigurationException($"LoRA adapter '{adapterName}' on '{Path}'",
                $"LoRA dropout {Settings.Dropout} cannot be applied here: {(Module is Linear ? _plan!.BlockedSlot + ", so" : "as a registered linear-like module,")} " +
                "the layer is adapted in place through its weight (W0 + s·B·A), where dropout on the adapter's input cannot be expressed. " +
                "Set Dropout = 0, declare the field as nn.Module<Tensor, Tensor> so the layer can be replaced, or set AllowDropoutOnSubstitutedLayers = true to train such layers without dropout.");
    }

    protected override LoRALayer Attach(string adapterName)
    {
        if (Mechanism == AdaptationMechanism.Replacement)
        {
            // The old Linear is not disposed: the LoRALinear now owns the very same weight and bias tensors.
            var layer = new LoRALinear((Linear)Module);
            layer.train(Module.training); // a new module starts in training mode; the layer follows the one it replaces
            layer.AddAdapter(adapterName, Settings);
            foreach (var assign in _plan!.Slots) assign(layer);
            return layer;
        }
        var substituted = SubstitutedLinear.Create(Module, Spec, Path);
        substituted.train(Module.training);
        substituted.AddAdapter(adapterName, Settings);
        ModuleReplacer.Plan(Parent, ChildName, Module, typeof(SubstitutedLinear), Path).Registration!(substituted);
        return substituted;
    }
}

/// <summary>A layer that already carries LoRA (another adapter name).</summary>
internal sealed record ExistingLayerTarget(string Path, LoRAConfig Settings, LoRALayer Layer) : InjectionTarget(Path, Settings)
{
    public override (long In, long Out) Shape => (Layer.InFeatures, Layer.OutFeatures);

    public override AdaptationMechanism Mechanism => Layer switch
    {
        SubstitutedLinear => AdaptationMechanism.Substitution,
        InProjectionSlice => AdaptationMechanism.InProjectionSlice,
        _ => AdaptationMechanism.Replacement,
    };

    public override nn.Module? AdaptedInPlace => (Layer as SubstitutedLinear)?.Wrapped;

    public override void Check(string adapterName)
    {
        base.Check(adapterName);
        if (Layer is SubstitutedLinear && Settings.Dropout > 0 && !Settings.AllowDropoutOnSubstitutedLayers)
            throw new InvalidConfigurationException($"LoRA adapter '{adapterName}' on '{Path}'",
                $"LoRA dropout {Settings.Dropout} cannot be applied to a layer adapted in place; set Dropout = 0 or AllowDropoutOnSubstitutedLayers = true.");
    }

    protected override LoRALayer Attach(string adapterName)
    {
        Layer.AddAdapter(adapterName, Settings);
        return Layer;
    }
}

/// <summary>One third (q, k or v) of a managed attention module's packed input projection.</summary>
internal sealed record SliceTarget(string Path, LoRAConfig Settings, ManagedMultiheadAttention Attention, string Slice)
    : InjectionTarget(Path, Settings)
{
    public override (long In, long Out) Shape => (Attention.EmbedDim, Attention.EmbedDim);

    public override AdaptationMechanism Mechanism => AdaptationMechanism.InProjectionSlice;

    protected override LoRALayer Attach(string adapterName) => Attention.AdaptInProjection(Slice, adapterName, Settings);
}

/// <summary>PEFT's layout for a targeted attention module: one adapter over the packed in-projection, one on out_proj.</summary>
internal sealed record AttentionTarget(string Path, LoRAConfig Settings, ManagedMultiheadAttention Attention)
    : InjectionTarget(Path, Settings)
{
    public override (long In, long Out) Shape => (Attention.EmbedDim, Attention.EmbedDim);

    public override AdaptationMechanism Mechanism => AdaptationMechanism.InProjectionSlice;

    protected override LoRALayer Attach(string adapterName) => Attention.AdaptWhole(adapterName, Settings);
}
