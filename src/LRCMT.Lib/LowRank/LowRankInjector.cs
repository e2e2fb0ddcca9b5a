using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank.Substitution;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// Puts LoRA adapters into a loaded model without changes to its source: walks its modules, adapts every targeted
/// <c>nn.Linear</c> (or registered linear-like module, see <see cref="LinearLikeModules"/>), then freezes everything
/// except the adapters and <see cref="LoRAConfig.ModulesToSave"/>. A target is replaced by a <see cref="LoRALinear"/>
/// where its parent's fields can hold one, and otherwise adapted in place (substitution). Built-in TorchSharp
/// transformer modules (whose weights live in native code) are first converted to managed twins with the same
/// parameter names — the root included, which is why the adapted model is <see cref="InjectionReport.Model"/>.
/// Every target is checked before anything changes: a failing injection leaves the model exactly as it was.
/// </summary>
public static class LowRankInjector
{
    /// <summary>Adds adapter <paramref name="adapterName"/> to every module of <paramref name="model"/> that <paramref name="config"/> targets.</summary>
    /// <param name="model">A loaded model; it is changed in place (unless it is itself a native transformer module, see <see cref="InjectionReport.Model"/>).</param>
    /// <param name="config">What to target and the adapter's settings.</param>
    /// <param name="adapterName">Name of the adapter (PEFT's default is <c>default</c>).</param>
    /// <param name="native">Hyper-parameters of built-in transformer modules to convert; inferred when null.</param>
    /// <returns>The adapted model, what was adapted (and how), converted and kept trainable, with parameter counts.</returns>
    /// <exception cref="InvalidConfigurationException">The configuration is invalid, a target or module to save matches nothing, a rank does not fit a module, or dropout is asked for on a layer adapted in place.</exception>
    /// <exception cref="AdapterException">A target already carries this adapter, is not a linear projection, or can be neither replaced nor adapted in place (e.g. a native encoder in a field of its sealed type).</exception>
    public static InjectionReport Inject(nn.Module model, LoRAConfig config, string adapterName = "default", NativeTransformerOptions? native = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        SettingRules.ThrowIf("LoRA adapter", SettingRules.PathSegment(nameof(adapterName), adapterName));

        var matcher = new TargetMatcher(config, model);
        var conversions = NativeTransformerConverter.PlanTargeted(model, matcher, native);
        List<InjectionTarget> targets;
        List<string> saved;
        Dictionary<string, nn.Module> modules;
        try
        {
            modules = IndexModules(model, conversions);
            targets = FindTargets(modules, matcher, adapterName, NativeTransformerConverter.ConvertibleProjections(model));
            saved = FindModulesToSave(modules, matcher, config);
        }
        catch
        {
            foreach (var conversion in conversions) conversion.Managed.Dispose();
            throw;
        }

        // Everything is checked: from here on the model changes.
        foreach (var conversion in conversions) conversion.Install();
        var root = modules[""];
        var convertedPaths = conversions.Select(c => c.Path).ToList();
        var adapted = targets.Select(t => t.Apply(adapterName, convertedPaths.Any(c => IsUnder(t.Path, c)))).ToList();
        Freeze(root, saved.Select(path => modules[path]));
        BiasTraining.Unfreeze(root, config.Bias);
        var substituted = AdapterRefresh.LayersOf(root);
        foreach (var layer in substituted) layer.Refresh(throwIfStale: false); // adapters may have been frozen or unfrozen
        bool hooked = substituted.Count > 0 && AdapterRefresh.EnsureHooked(root);
        return new InjectionReport(adapterName, adapted, conversions.Select(c => c.Description).ToList(), saved, ParameterReport.Of(root))
        {
            Model = root,
            RefreshesOnCall = substituted.Count == 0 || hooked,
        };
    }

    /// <summary>
    /// Rebuilds the adapted weights of every layer of <paramref name="model"/> that was adapted in place
    /// (<see cref="AdaptationMechanism.Substitution"/>). Invoking the model's root with <c>.call(...)</c> does this
    /// automatically (a forward pre-hook); call this before each forward when you invoke it with <c>.forward(...)</c>,
    /// which runs no hooks. Harmless (and cheap) for models without such layers.
    /// </summary>
    /// <returns>How many layers were refreshed.</returns>
    /// <exception cref="StaleAdapterWeightsException">
    /// A backward since the last refresh found that its forward had used adapter weights from before the adapters
    /// changed (its gradient was refused). The weights are refreshed nonetheless, so the next step is right.
    /// </exception>
    public static int RefreshAdapters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return AdapterRefresh.RefreshAll(model);
    }

    /// <summary>Every module by dotted path, the root as "", with planned managed twins in place of native modules, skipping the insides of LoRA layers.</summary>
    private static Dictionary<string, nn.Module> IndexModules(nn.Module model, List<PlannedConversion> conversions)
    {
        var index = new Dictionary<string, nn.Module>();
        var loraPaths = new List<string>();
        void Add(string path, nn.Module module)
        {
            if (loraPaths.Any(p => IsUnder(path, p) && path != p)) return;
            if (module is LoRALayer) loraPaths.Add(path);
            index[path] = module;
        }

        var root = conversions.FirstOrDefault(c => c.Path.Length == 0)?.Managed ?? model;
        Add("", root);
        var converted = conversions.Where(c => c.Path.Length > 0).ToList();
        foreach (var (path, module) in root.named_modules())
        {
            if (converted.Any(c => IsUnder(path, c.Path))) continue;
            Add(path, module);
        }
        foreach (var conversion in converted)
        {
            Add(conversion.Path, conversion.Managed);
            foreach (var (path, module) in conversion.Managed.named_modules()) Add($"{conversion.Path}.{path}", module);
        }
        return index;
    }

    private static bool IsUnder(string path, string ancestor)
        => ancestor.Length == 0 || path == ancestor || path.StartsWith(ancestor + ".", StringComparison.Ordinal);

    private static List<InjectionTarget> FindTargets(Dictionary<string, nn.Module> modules, TargetMatcher matcher, string adapterName, IEnumerable<string> nativeProjections)
    {
        var targets = new List<InjectionTarget>();
        var linearNames = new List<string>();
        foreach (var (path, module) in modules)
        {
            if (path.Length == 0) continue;
            if (module is LoRALayer || LinearLikeModules.SpecOf(module) is not null) linearNames.Add(path);
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
                LoRALayer layer => new ExistingLayerTarget(path, settings, layer),
                ManagedMultiheadAttention whole => new AttentionTarget(path, settings, whole),
                _ when LinearLikeModules.SpecOf(module) is { } spec => LinearLikeTarget(modules, path, settings, module, spec),
                _ => throw new AdapterException(path,
                    $"it is a {module.GetType().Name}, not a linear projection; LoRA targets nn.Linear modules and types registered with LinearLikeModules.Register" +
                    "."),
            });
        }

        if (targets.Count == 0)
            throw new InvalidConfigurationException("LoRA targets",
                $"no module matches the targets. Linear modules in this model: {Abbreviate(linearNames.Concat(nativeProjections).Distinct())}.");
        foreach (var target in targets) target.Check(adapterName);
        return targets;
    }

    private static LinearLikeTarget LinearLikeTarget(Dictionary<string, nn.Module> modules, string path, LoRAConfig settings, nn.Module module, LinearLikeSpec spec)
    {
        int dot = path.LastIndexOf('.');
        var (parent, childName) = dot < 0 ? (modules[""], path) : (modules[path[..dot]], path[(dot + 1)..]);
        return new LinearLikeTarget(path, settings, parent, childName, module, spec);
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

    private static string Abbreviate(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count == 0) return "(none)";
        return string.Join(", ", list.Take(40)) + (list.Count > 40 ? $", ... ({list.Count} in all)" : "");
    }
}
