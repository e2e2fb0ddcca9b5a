using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.LowRank.Transformers;
using TorchSharp.Modules;

namespace LRCMT.LowRank;

/// <summary>
/// Puts LoRA adapters into a loaded model: walks its modules, replaces every targeted <c>nn.Linear</c> with a
/// <see cref="LoRALinear"/> holding the same weight and bias, then freezes everything except the adapters and
/// <see cref="LoRAConfig.ModulesToSave"/>. Built-in TorchSharp transformer modules (whose parameters live in native
/// code) are first converted to managed equivalents with the same parameter names when a target lies inside them.
/// </summary>
public static class LowRankInjector
{
    /// <summary>Adds adapter <paramref name="adapterName"/> to every module of <paramref name="model"/> that <paramref name="config"/> targets.</summary>
    /// <param name="model">A loaded model; it is changed in place.</param>
    /// <param name="config">What to target and the adapter's settings.</param>
    /// <param name="adapterName">Name of the adapter (PEFT's default is <c>default</c>).</param>
    /// <param name="native">Hyper-parameters of built-in transformer modules to convert; inferred when null.</param>
    /// <returns>What was adapted, converted and kept trainable, with parameter counts.</returns>
    /// <exception cref="InvalidConfigurationException">The configuration is invalid, a target or module to save matches nothing, or a rank does not fit a module.</exception>
    /// <exception cref="AdapterException">A target already carries this adapter, is not a linear projection, or cannot be replaced in its parent.</exception>
    public static InjectionReport Inject(nn.Module model, LoRAConfig config, string adapterName = "default", NativeTransformerOptions? native = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (string.IsNullOrWhiteSpace(adapterName) || adapterName.Contains('.'))
            throw new InvalidConfigurationException("LoRA adapter name", $"'{adapterName}' must be non-empty and contain no '.'.");

        var matcher = new TargetMatcher(config, model);
        var converted = NativeTransformerConverter.ConvertTargeted(model, matcher, native);
        var modules = IndexModules(model);
        var targets = FindTargets(modules, matcher, adapterName);
        var saved = FindModulesToSave(modules, matcher, config);

        var adapted = targets.Select(t => t.Apply(adapterName)).ToList();
        Freeze(model, saved.Select(path => modules[path]));
        BiasTraining.Unfreeze(model, config.Bias);
        return new InjectionReport(adapterName, adapted, converted, saved, ParameterReport.Of(model));
    }

    /// <summary>Every module by dotted path, the root as "", skipping the insides of LoRA layers.</summary>
    private static Dictionary<string, nn.Module> IndexModules(nn.Module model)
    {
        var index = new Dictionary<string, nn.Module> { [""] = model };
        var loraPaths = new List<string>();
        foreach (var (path, module) in model.named_modules())
        {
            if (loraPaths.Any(p => path.StartsWith(p + ".", StringComparison.Ordinal))) continue;
            if (module is LoRALayer) loraPaths.Add(path);
            index[path] = module;
        }
        return index;
    }

    private static List<Target> FindTargets(Dictionary<string, nn.Module> modules, TargetMatcher matcher, string adapterName)
    {
        var targets = new List<Target>();
        var linearNames = new List<string>();
        foreach (var (path, module) in modules)
        {
            if (path.Length == 0) continue;
            if (module is Linear or LoRALayer) linearNames.Add(path);
            if (module is ManagedMultiheadAttention attention)
            {
                foreach (var slice in attention.UnadaptedInProjectionSlices())
                {
                    var slicePath = $"{path}.in_proj.{slice}";
                    linearNames.Add(slicePath);
                    if (matcher.IsTarget(slicePath))
                        targets.Add(new SliceTarget(slicePath, matcher.ConfigFor(slicePath), attention, slice));
                }
            }
            if (!matcher.IsTarget(path)) continue;

            var settings = matcher.ConfigFor(path);
            targets.Add(module switch
            {
                Linear linear => new LinearTarget(path, settings, ParentOf(modules, path), linear),
                LoRALayer layer => new ExistingLayerTarget(path, settings, layer),
                ManagedMultiheadAttention whole => new AttentionTarget(path, settings, whole),
                _ => throw new AdapterException(path,
                    $"it is a {module.GetType().Name}, not a linear projection; LoRA targets nn.Linear modules" +
                    "."),
            });
        }

        if (targets.Count == 0)
            throw new InvalidConfigurationException("LoRA targets",
                $"no module matches the targets. Linear modules in this model: {Abbreviate(linearNames)}.");
        foreach (var target in targets) target.Check(adapterName);
        return targets;
    }

    private static List<string> FindModulesToSave(Dictionary<string, nn.Module> modules, TargetMatcher matcher, LoRAConfig config)
    {
        var saved = modules.Keys.Where(p => p.Length > 0 && matcher.IsModuleToSave(p)).ToList();
        var unmatched = config.ModulesToSave.Where(name => !saved.Any(p => TargetMatcher.MatchesAny([name], p))).ToList();
        if (unmatched.Count > 0)
            throw new InvalidConfigurationException("LoRA modules to save",
                $"{string.Join(", ", unmatched.Select(n => $"'{n}'"))} match no module. Modules in this model: {Abbreviate(modules.Keys.Where(k => k.Length > 0))}.");
        return saved;
    }

    /// <summary>Freezes every parameter, then unfreezes adapters (found by type, not by name) and the modules to save.</summary>
    private static void Freeze(nn.Module model, IEnumerable<nn.Module> modulesToSave)
    {
        foreach (var parameter in model.parameters()) parameter.requires_grad = false;
        foreach (var module in model.modules().Prepend(model))
            if (module is LoRALayer layer)
                foreach (var parameter in layer.AdapterParameters()) parameter.requires_grad = true;
        foreach (var module in modulesToSave)
            foreach (var parameter in module.parameters()) parameter.requires_grad = true;
    }

    private static (nn.Module Parent, string ChildName) ParentOf(Dictionary<string, nn.Module> modules, string path)
    {
        int dot = path.LastIndexOf('.');
        return dot < 0 ? (modules[""], path) : (modules[path[..dot]], path[(dot + 1)..]);
    }

    private static string Abbreviate(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count == 0) return "(none)";
        return string.Join(", ", list.Take(40)) + (list.Count > 40 ? $", ... ({list.Count} in all)" : "");
    }

    /// <summary>One place that will receive the adapter; <see cref="Check"/> runs for all targets before any <see cref="Apply"/>.</summary>
    private abstract record Target(string Path, LoRAConfig Settings)
    {
        public abstract (long In, long Out) Shape { get; }

        public virtual void Check(string adapterName)
        {
            var (inFeatures, outFeatures) = Shape;
            long limit = Math.Min(inFeatures, outFeatures);
            if (Settings.Rank > limit)
                throw new InvalidConfigurationException($"LoRA adapter '{adapterName}' on '{Path}'",
                    $"rank {Settings.Rank} exceeds min(in_features {inFeatures}, out_features {outFeatures}) = {limit}.");
        }

        public AdaptedModule Apply(string adapterName)
        {
            var layer = Attach(adapterName);
            return new AdaptedModule(Path, layer.InFeatures, layer.OutFeatures, Settings.Rank, Settings.Alpha,
                layer.ScalingOf(adapterName), Settings.UseDora);
        }

        protected abstract LoRALayer Attach(string adapterName);
    }

    private sealed record LinearTarget(string Path, LoRAConfig Settings, (nn.Module Parent, string ChildName) Owner, Linear Linear)
        : Target(Path, Settings)
    {
        public override (long In, long Out) Shape => (Linear.weight.shape[1], Linear.weight.shape[0]);

        public override void Check(string adapterName)
        {
            base.Check(adapterName);
            ModuleReplacer.EnsureReplaceable(Owner.Parent, Owner.ChildName, Linear, typeof(LoRALinear), Path);
        }

        protected override LoRALayer Attach(string adapterName)
        {
            // The old Linear is not disposed: the LoRALinear now owns the very same weight and bias tensors.
            var layer = new LoRALinear(Linear);
            layer.AddAdapter(adapterName, Settings);
            ModuleReplacer.Replace(Owner.Parent, Owner.ChildName, Linear, layer, Path);
            return layer;
        }
    }

    private sealed record ExistingLayerTarget(string Path, LoRAConfig Settings, LoRALayer Layer) : Target(Path, Settings)
    {
        public override (long In, long Out) Shape => (Layer.InFeatures, Layer.OutFeatures);

        public override void Check(string adapterName)
        {
            if (Layer.AdapterNames.Contains(adapterName))
                throw new AdapterException(Path, $"it already carries adapter '{adapterName}'; injecting the same adapter twice is not allowed (use another adapter name).");
            base.Check(adapterName);
        }

        protected override LoRALayer Attach(string adapterName)
        {
            Layer.AddAdapter(adapterName, Settings);
            return Layer;
        }
    }

    private sealed record SliceTarget(string Path, LoRAConfig Settings, ManagedMultiheadAttention Attention, string Slice)
        : Target(Path, Settings)
    {
        public override (long In, long Out) Shape => (Attention.EmbedDim, Attention.EmbedDim);

        protected override LoRALayer Attach(string adapterName) => Attention.AdaptInProjection(Slice, adapterName, Settings);
    }

    /// <summary>PEFT's layout for a targeted attention module: one adapter over the packed in-projection, one on out_proj.</summary>
    private sealed record AttentionTarget(string Path, LoRAConfig Settings, ManagedMultiheadAttention Attention) : Target(Path, Settings)
    {
        public override (long In, long Out) Shape => (Attention.EmbedDim, Attention.EmbedDim);

        protected override LoRALayer Attach(string adapterName) => Attention.AdaptWhole(adapterName, Settings);
    }
}
