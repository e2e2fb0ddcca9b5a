using System.Text.RegularExpressions;
using LRCMT.Errors;
using TorchSharp;

namespace LRCMT.LowRank;

/// <summary>
/// The one record of an adapter, as PEFT's <c>peft_config[name]</c>: the configuration it was created with, resolved
/// (<see cref="LoRAConfig.AllLinear"/> replaced by the module names it selected). <see cref="LowRankInjector.Inject"/>
/// makes one per adapter and hands the same record to every layer that receives the adapter, so the record goes
/// wherever the layers go (deleting the adapter or merge-and-unload removes it) and reads the same from any module
/// above them. An adapter added by hand to a layer (<see cref="LoRALayer.AddAdapter"/>) gets a record of that layer's
/// settings only; its targets are then the layers that carry it.
/// </summary>
internal sealed class AdapterRecord
{
    private readonly WeakReference<torch.nn.Module>? _root;

    private AdapterRecord(LoRAConfig config, torch.nn.Module? root)
    {
        Config = Copy(config);
        _root = root is null ? null : new WeakReference<torch.nn.Module>(root);
    }

    /// <summary>The record of an injection into <paramref name="root"/>: the configuration as resolved there.</summary>
    public static AdapterRecord OfInjection(LoRAConfig resolved, torch.nn.Module root) => new(resolved, root);

    /// <summary>The record of an adapter added by hand to one layer.</summary>
    public static AdapterRecord ByHand(LoRAConfig config) => new(config, null);

    /// <summary>The same adapter described by <paramref name="config"/> (after a hot-swap changed its scaling), with the same targets root.</summary>
    public AdapterRecord WithConfig(LoRAConfig config) => new(config, _root is not null && _root.TryGetTarget(out var root) ? root : null);

    /// <summary>The configuration (a private copy: the caller's object may change later).</summary>
    public LoRAConfig Config { get; }

    /// <summary>Whether the record says where the adapter goes (an injection), not only how one layer computes it.</summary>
    public bool DescribesTargets => _root is not null;

    /// <summary>A copy that shares no list or dictionary with <paramref name="config"/>.</summary>
    public static LoRAConfig Copy(LoRAConfig config) => config with
    {
        TargetModules = [.. config.TargetModules],
        ExcludeModules = [.. config.ExcludeModules],
        ModulesToSave = [.. config.ModulesToSave],
        LayersToTransform = config.LayersToTransform is null ? null : [.. config.LayersToTransform],
        LayersPattern = config.LayersPattern is null ? null : [.. config.LayersPattern],
        RankPattern = new Dictionary<string, int>(config.RankPattern),
        AlphaPattern = new Dictionary<string, double>(config.AlphaPattern),
    };

    /// <summary>
    /// The configuration as seen from <paramref name="model"/>, which contains the module the adapter was injected
    /// into: a target regex (which must match whole paths) gains that module's path as a prefix; names need nothing,
    /// as PEFT matches them as path suffixes.
    /// </summary>
    private LoRAConfig SeenFrom(torch.nn.Module model)
    {
        if (Config.TargetRegex is not { } regex || Config.TargetsAllLinear || _root is null || !_root.TryGetTarget(out var root) || ReferenceEquals(root, model))
            return Copy(Config);
        var prefix = model.named_modules().FirstOrDefault(m => ReferenceEquals(m.module, root)).name;
        return prefix is null ? Copy(Config) : Copy(Config) with { TargetRegex = $"{Regex.Escape(prefix)}\\.(?:{regex})" };
    }

    /// <summary>Every adapter of <paramref name="model"/> by name, in first-seen order, each as one configuration.</summary>
    /// <exception cref="AdapterException">An adapter was injected more than once into parts of the model, or added by hand beside an injected one.</exception>
    /// <exception cref="InvalidConfigurationException">Layers given an adapter by hand disagree on what one PEFT config must state once (rsLoRA, DoRA, dropout).</exception>
    public static Dictionary<string, LoRAConfig> All(torch.nn.Module model)
    {
        var result = new Dictionary<string, LoRAConfig>(StringComparer.Ordinal);
        foreach (var name in Layers(model).SelectMany(l => l.Layer.AdapterNames).Distinct())
            result[name] = Of(model, name)!;
        return result;
    }

    /// <summary>The record of adapter <paramref name="adapterName"/> as one configuration, or null when no layer of <paramref name="model"/> carries it.</summary>
    /// <inheritdoc cref="All" path="/exception"/>
    public static LoRAConfig? Of(torch.nn.Module model, string adapterName)
    {
        var carrying = Layers(model).Where(l => l.Layer.AdapterNames.Contains(adapterName)).ToList();
        if (carrying.Count == 0) return null;
        var injected = carrying.Select(l => l.Layer.RecordOf(adapterName)).Where(r => r.DescribesTargets).Distinct().ToList();
        var byHand = carrying.Where(l => !l.Layer.RecordOf(adapterName).DescribesTargets).ToList();
        if (injected.Count > 1)
            throw new AdapterException(null, $"adapter '{adapterName}' was injected {injected.Count} times into different parts of this model, each with its own configuration; " +
                "one PEFT adapter has one configuration: give each injection its own adapter name, or work with each part separately.");
        if (injected.Count == 1 && byHand.Count > 0)
            throw new AdapterException(byHand[0].Path, $"it was given adapter '{adapterName}' by hand (LoRALayer.AddAdapter) beside the layers that received it from LowRankInjector.Inject; " +
                "one adapter has one configuration: use another adapter name for layers you adapt by hand.");
        return injected.Count == 1 ? injected[0].SeenFrom(model) : DescribeByHand(model, adapterName);
    }

    /// <summary>
    /// One configuration for layers given an adapter by hand: the settings of the first layer (in module order),
    /// the carrying layers' exact paths as targets, and exact-path rank/alpha patterns for layers that differ.
    /// </summary>
    private static LoRAConfig DescribeByHand(torch.nn.Module model, string adapterName)
    {
        var entries = PeftKeyLayout.Of(model, adapterName).Where(e => e.TargetPath is not null).ToList();
        var settings = entries.Select(e => (e.FilePath, e.TargetPath, Settings: e.Layer.SettingsOf(adapterName))).ToList();
        var first = settings[0].Settings;
        var problems = new List<SettingProblem>();
        if (settings.Any(s => s.Settings.UseRsLora != first.UseRsLora)) problems.Add(new(nameof(LoRAConfig.UseRsLora), "layers disagree"));
        if (settings.Any(s => s.Settings.UseDora != first.UseDora)) problems.Add(new(nameof(LoRAConfig.UseDora), "layers disagree"));
        if (settings.Any(s => s.Settings.Dropout != first.Dropout)) problems.Add(new(nameof(LoRAConfig.Dropout), "layers disagree"));
        if (problems.Count > 0) throw new InvalidConfigurationException($"adapter '{adapterName}' as a PEFT config", problems);
        return entries[0].Layer.RecordOf(adapterName).Config with
        {
            Rank = first.Rank,
            Alpha = first.Alpha,
            Dropout = first.Dropout,
            UseRsLora = first.UseRsLora,
            UseDora = first.UseDora,
            TargetModules = [.. settings.Select(s => s.TargetPath!).Distinct()],
            TargetRegex = null,
            ExcludeModules = [],
            LayersToTransform = null,
            LayersPattern = null,
            ModulesToSave = [],
            RankPattern = settings.Where(s => s.Settings.Rank != first.Rank).ToDictionary(s => Regex.Escape(s.FilePath), s => s.Settings.Rank),
            AlphaPattern = settings.Where(s => s.Settings.Alpha != first.Alpha).ToDictionary(s => Regex.Escape(s.FilePath), s => s.Settings.Alpha),
        };
    }

    private static IEnumerable<(string Path, LoRALayer Layer)> Layers(torch.nn.Module model)
        => model.named_modules().Prepend(("", model)).Where(m => m.Item2 is LoRALayer).Select(m => (m.Item1, (LoRALayer)m.Item2));
}
