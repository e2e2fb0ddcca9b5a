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
/// Layers adapted in place get their weight rebuilt by forward pre-hooks on the modules along their path (see
/// <see cref="RefreshAdapters"/>). The adapter's configuration is recorded once on the model
/// (<see cref="AdapterControl.GetAdapterConfig"/>). Every target is checked before anything changes: a failing
/// injection leaves the model exactly as it was.
/// </summary>
public static class LowRankInjector
{
    /// <summary>Adds adapter <paramref name="adapterName"/> to every module of <paramref name="model"/> that <paramref name="config"/> targets.</summary>
    /// <param name="model">A loaded model; it is changed in place (unless it is itself a native transformer module, see <see cref="InjectionReport.Model"/>).</param>
    /// <param name="config">What to target and the adapter's settings.</param>
    /// <param name="adapterName">Name of the adapter (PEFT's default is <c>default</c>); the model must not carry it yet.</param>
    /// <param name="options">Native modules' settings and strict refresh checking; defaults when null.</param>
    /// <returns>The adapted model, what was adapted (and how), converted and kept trainable, with parameter counts.</returns>
    /// <exception cref="InvalidConfigurationException">The configuration is invalid, a target or module to save matches nothing, a rank does not fit a module, or dropout is asked for on a layer adapted in place.</exception>
    /// <exception cref="AdapterException">The model already carries this adapter, a target is not a linear projection or can be neither replaced nor adapted in place (e.g. a native encoder in a field of its sealed type), or <see cref="InjectionOptions.RequireAutomaticRefresh"/> is set and a layer adapted in place would not be refreshed automatically.</exception>
    public static InjectionReport Inject(nn.Module model, LoRAConfig config, string adapterName = "default", InjectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        SettingRules.ThrowIf("LoRA adapter", SettingRules.PathSegment(nameof(adapterName), adapterName));
        options ??= new InjectionOptions();
        ThrowIfCarried(model, adapterName);

        var matcher = new TargetMatcher(config, model);
        var conversions = NativeTransformerConverter.PlanTargeted(model, matcher, options.Native);
        List<InjectionTarget> targets;
        List<string> saved;
        Dictionary<string, nn.Module> modules;
        try
        {
            modules = IndexModules(model, conversions);
            targets = FindTargets(modules, matcher, adapterName, NativeTransformerConverter.ConvertibleProjections(model));
            saved = FindModulesToSave(modules, matcher, config);
            if (options.RequireAutomaticRefresh)
            {
                var planned = targets.Where(t => t.AdaptedInPlace is not null).ToDictionary(t => t.Path, t => HookCoverage.Of(modules, t.Path, t.AdaptedInPlace!));
                if (RefreshGaps.Describe(planned, modules[""]) is { } gaps)
                    throw new AdapterException(null, $"{string.Join(" ", gaps)} Nothing was changed (InjectionOptions.RequireAutomaticRefresh is set).");
            }
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
        RecordAdapter(root, adapterName, config, matcher);
        Freeze(root, saved.Select(path => modules[path]));
        BiasTraining.Unfreeze(root, config.Bias);
        var coverage = InstallRefresh(root);
        return new InjectionReport(adapterName,
            adapted.Select(a => coverage.TryGetValue(a.Path, out var c) ? a with { RefreshedBy = c.RefreshedBy } : a).ToList(),
            conversions.Select(c => c.Description).ToList(), saved, ParameterReport.Of(root))
        {
            Model = root,
            RefreshesOnCall = coverage.Values.All(c => c.RefreshedBy is not null),
            RefreshGapText = RefreshGaps.Describe(coverage, root),
        };
    }

    /// <summary>
    /// Rebuilds every layer adapted in place (adapters may have been frozen or unfrozen), hooks the refresh onto the
    /// modules on their paths, and says for each which module's <c>.call</c> rebuilds it (<see cref="HookCoverage"/>).
    /// </summary>
    private static Dictionary<string, HookCoverage.Result> InstallRefresh(nn.Module root)
    {
        var modules = root.named_modules().Prepend(("", root)).ToDictionary(m => m.Item1, m => m.Item2);
        var layers = modules.Where(m => m.Value is SubstitutedLinear).Select(m => (Path: m.Key, Layer: (SubstitutedLinear)m.Value)).ToList();
        foreach (var (_, layer) in layers) layer.Refresh(throwIfStale: false);
        AdapterRefresh.Install(root, layers.Select(l => (l.Layer,
            (IReadOnlyList<nn.Module>)modules.Where(m => m.Key.Length > 0 && l.Path.StartsWith(m.Key + ".", StringComparison.Ordinal)).Select(m => m.Value).ToList())));
        return layers.ToDictionary(l => l.Path, l => HookCoverage.Of(modules, l.Path, l.Layer.Wrapped));
    }

    /// <summary>
    /// Rebuilds the adapted weights of every layer of <paramref name="model"/> that was adapted in place
    /// (<see cref="AdaptationMechanism.Substitution"/>). Forward pre-hooks do this automatically whenever a module on
    /// a layer's path is invoked with <c>.call(...)</c> (see <see cref="InjectionReport.RefreshesOnCall"/>); call this
    /// before each forward when none is — e.g. a model invoked with <c>.forward(...)</c> whose modules invoke each
    /// other with <c>.forward</c>, or whose root has its own <c>call</c> — or train
    /// <see cref="InjectionReport.AsTrainable{T, TResult}"/> instead. Harmless (and cheap) for models without such layers.
    /// </summary>
    /// <returns>How many layers were refreshed.</returns>
    /// <exception cref="StaleAdapterWeightsException">
    /// A backward since the last refresh found that its forward had used adapter weights from before the adapters
    /// changed (its gradient was refused). The weights are refreshed nonetheless, so the next step is right.
    /// </exception>
    /// <exception cref="NonFiniteAdapterWeightsException">A backward since the last refresh found NaN or infinite adapter weights (training diverged).</exception>
    public static int RefreshAdapters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return AdapterRefresh.RefreshAll(model);
    }

    /// <summary>PEFT's rule: an adapter name is added once (add_adapter refuses an existing one).</summary>
    private static void ThrowIfCarried(nn.Module model, string adapterName)
    {
        var carrying = model.named_modules().Prepend(("", model))
            .Where(m => m.Item2 is LoRALayer layer && layer.AdapterNames.Contains(adapterName)).Select(m => m.Item1).ToList();
        if (carrying.Count > 0)
            throw new AdapterException(carrying[0].Length > 0 ? carrying[0] : null,
                $"it already carries adapter '{adapterName}' ({carrying.Count} layer(s) of this model do); injecting the same adapter name twice is not allowed " +
                $"(PEFT refuses it too): use another adapter name, or remove it first with model.DeleteAdapter(\"{adapterName}\").");
    }

    /// <summary>
    /// Gives every layer that received the adapter one shared record: the configuration, with all-linear resolved to
    /// the module names it selected (what PEFT writes back as target_modules).
    /// </summary>
    private static void RecordAdapter(nn.Module root, string adapterName, LoRAConfig config, TargetMatcher matcher)
    {
        var resolved = config.TargetsAllLinear
            ? config with { TargetModules = [.. matcher.TargetNames.Order(StringComparer.Ordinal)], TargetRegex = null }
            : config;
        var record = AdapterRecord.OfInjection(resolved, root);
        foreach (var layer in root.modules().Prepend(root).OfType<LoRALayer>())
            if (layer.AdapterNames.Contains(adapterName)) layer.Adopt(adapterName, record);
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
