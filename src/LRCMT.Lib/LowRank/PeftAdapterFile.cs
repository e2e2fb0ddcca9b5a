using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.TextEncoders;
using LRCMT.Formats.Pickle;
using LRCMT.Formats.Safetensors;

namespace LRCMT.LowRank;

/// <summary>
/// Saves and loads LoRA adapters in Hugging Face PEFT's folder format: <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.&lt;module path&gt;.lora_A.weight</c> / <c>.lora_B.weight</c> (DoRA adds
/// <c>.lora_magnitude_vector</c>; modules kept trainable appear under their own names) and <c>adapter_config.json</c>.
/// Folders written here load with PEFT's <c>PeftModel.from_pretrained</c>, and PEFT's folders load here.
/// </summary>
public static class PeftAdapterFile
{
    /// <summary>Name of the weights file inside an adapter folder.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>Name of the weights file older PEFT versions wrote (a torch pickle, read through <see cref="TorchCheckpointFile"/>); used when there is no <see cref="WeightsFileName"/>.</summary>
    public const string LegacyWeightsFileName = "adapter_model.bin";

    /// <summary>Name of the configuration file inside an adapter folder.</summary>
    public const string ConfigFileName = "adapter_config.json";

    private const string Prefix = "base_model.model.";

    /// <summary>Writes adapter <paramref name="adapterName"/> of <paramref name="model"/> to <paramref name="directory"/>.</summary>
    /// <param name="model">A model with the adapter injected.</param>
    /// <param name="directory">Folder to write (created if needed; existing files are replaced).</param>
    /// <param name="adapterName">Which adapter to save.</param>
    /// <param name="modulesToSave">Paths of fully trained modules to include (e.g. <see cref="InjectionReport.ModulesToSave"/>).</param>
    /// <param name="baseModelNameOrPath">Recorded as <c>base_model_name_or_path</c>; when null, the folder the model was loaded from (if known).</param>
    /// <param name="revision">Recorded as <c>revision</c> (the base model's hub revision), or null.</param>
    /// <exception cref="AdapterException">No module carries the adapter, a module to save does not exist, or no target_modules value reproduces the adapted set.</exception>
    /// <exception cref="InvalidConfigurationException">The layers disagree on rsLoRA, DoRA, dropout or bias mode, which PEFT's config cannot express.</exception>
    public static void Save(nn.Module model, string directory, string adapterName = "default",
        IReadOnlyList<string>? modulesToSave = null, string? baseModelNameOrPath = null, string? revision = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var entries = EntriesWith(model, adapterName);
        var saved = modulesToSave ?? [];
        var config = AdapterConfigOf(entries, adapterName, saved);

        var filePaths = entries.ToDictionary(e => e.ModelPath, e => e.FilePath);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var entry in entries)
            foreach (var (suffix, tensor) in entry.Layer.AdapterTensors(adapterName))
                tensors.Add(new(Prefix + entry.FilePath + "." + suffix, tensor));
        var written = tensors.Select(t => t.Value.Handle).ToHashSet();
        foreach (var (key, parameter, adaptedLayer) in BiasTraining.Selected(model, config.Bias))
            if (written.Add(parameter.Handle)) tensors.Add(new(Prefix + PeftKeyLayout.BiasFileKey(key, adaptedLayer, filePaths), parameter));
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var path in saved)
        {
            if (!modules.TryGetValue(path, out var module))
                throw new AdapterException(path, "it is listed in modulesToSave but the model has no such module.");
            foreach (var (name, parameter) in module.named_parameters())
                if (written.Add(parameter.Handle)) tensors.Add(new(Prefix + path + "." + name, parameter));
        }

        var targets = TargetModuleNames.Choose(entries.Where(e => e.TargetPath is not null).Select(e => e.TargetPath!).ToList(),
            PeftKeyLayout.BaseModuleNames(model), config);
        if (!targets.KeepsFilters) config = config with { ExcludeModules = [], LayersToTransform = null, LayersPattern = null };
        var extensions = new Dictionary<string, string>();
        if (entries.Any(e => e.IsPerSlice)) extensions[PeftKeyLayout.ExtensionField] = PeftKeyLayout.PerSliceLayout;
        var extras = new PeftAdapterConfigJson.Extras(
            targets.Names is { } names ? PeftAdapterConfigJson.List(names) : JsonValue.Create(targets.Regex!)!,
            baseModelNameOrPath ?? ModelSources.FolderOf(model), revision, ModelSources.AutoMappingOf(model), extensions);

        Directory.CreateDirectory(directory);
        SafetensorsFile.Save(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(directory, ConfigFileName), PeftAdapterConfigJson.Write(config, extras));
    }

    /// <summary>Reads a folder's <c>adapter_config.json</c> as a <see cref="LoRAConfig"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no adapter_config.json.</exception>
    /// <exception cref="CorruptFileException">The file is not valid JSON or has mistyped fields.</exception>
    /// <exception cref="InvalidConfigurationException">The adapter is not a plain LoRA adapter.</exception>
    public static LoRAConfig ReadConfig(string directory) => ReadConfigFile(directory).Config;

    private static PeftAdapterConfigJson.ReadResult ReadConfigFile(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {ConfigFileName} in '{directory}'.", path);
        return PeftAdapterConfigJson.Read(path);
    }

    /// <summary>
    /// Loads an adapter folder into <paramref name="model"/>. If the model does not carry adapter
    /// <paramref name="adapterName"/> yet, it is injected first from the folder's configuration. Every name and shape
    /// is checked before anything is copied.
    /// </summary>
    /// <returns>The configuration read, the injection report (null when the adapter existed), the keys loaded and notes on the file.</returns>
    /// <exception cref="CheckpointMismatchException">Adapter tensors are missing, unexpected or of the wrong shape.</exception>
    public static PeftAdapterLoadReport Load(nn.Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        var read = ReadConfigFile(directory);
        var config = read.Config;
        var weightsPath = Path.Combine(directory, WeightsFileName);
        var legacyPath = Path.Combine(directory, LegacyWeightsFileName);
        if (!File.Exists(weightsPath) && File.Exists(legacyPath)) weightsPath = legacyPath;
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"No {WeightsFileName} (or {LegacyWeightsFileName}) in '{directory}'.", weightsPath);

        var injection = model.modules().OfType<LoRALayer>().Any(l => l.AdapterNames.Contains(adapterName))
            ? null
            : LowRankInjector.Inject(model, config, adapterName);

        var file = weightsPath == legacyPath ? TorchCheckpointFile.Load(weightsPath) : SafetensorsFile.Load(weightsPath);
        try
        {
            var expected = ExpectedKeys(model, adapterName, config);
            var source = file.ToDictionary(kv => ToModelKey(kv.Key, expected), kv => kv.Value);
            var adapterKeys = expected.Values.ToHashSet();
            var loaded = StateDictLoader.Load(model, source, weightsPath,
                new StateDictLoadOptions(MayBeMissing: key => !adapterKeys.Contains(key), MayBeUnexpected: _ => false));
            Substitution.AdapterRefresh.RefreshQuietly(model); // layers adapted in place hand the loaded weights to their modules
            return new PeftAdapterLoadReport(config, injection, loaded.LoadedKeys, read.Notes);
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>Model state-dict key of every file key this adapter should have, by file key without the prefix.</summary>
    private static Dictionary<string, string> ExpectedKeys(nn.Module model, string adapterName, LoRAConfig config)
    {
        var keyOf = model.named_parameters().GroupBy(p => p.parameter.Handle).ToDictionary(g => g.Key, g => g.First().name);
        var expected = new Dictionary<string, string>();
        var entries = EntriesWith(model, adapterName);
        foreach (var entry in entries)
            foreach (var (suffix, parameter) in entry.Layer.AdapterTensors(adapterName))
                expected[$"{entry.FilePath}.{suffix}"] = keyOf[parameter.Handle];
        var filePaths = entries.ToDictionary(e => e.ModelPath, e => e.FilePath);
        foreach (var (key, _, adaptedLayer) in BiasTraining.Selected(model, config.Bias))
            expected.TryAdd(PeftKeyLayout.BiasFileKey(key, adaptedLayer, filePaths), key);
        foreach (var (path, module) in model.named_modules().Where(m => TargetMatcher.MatchesAny(config.ModulesToSave, m.name)))
            foreach (var (name, _) in module.named_parameters())
                expected.TryAdd($"{path}.{name}", $"{path}.{name}");
        return expected;
    }

    // Unknown keys keep their file name, so the loader reports them as unexpected.
    private static string ToModelKey(string fileKey, Dictionary<string, string> expected)
    {
        var key = fileKey.StartsWith(Prefix, StringComparison.Ordinal) ? fileKey[Prefix.Length..] : fileKey;
        return expected.TryGetValue(key, out var modelKey) ? modelKey : fileKey;
    }

    private static List<PeftKeyLayout.Entry> EntriesWith(nn.Module model, string adapterName)
    {
        var entries = PeftKeyLayout.Of(model, adapterName);
        if (entries.Count == 0) throw new AdapterException(null, $"no module of the model carries adapter '{adapterName}'.");
        return entries;
    }

    /// <summary>
    /// Describes the adapter as one PEFT config: the most common rank/alpha, with per-module patterns for the rest, and
    /// what the adapter was created with (initialisation, bias mode, task type, layer filters).
    /// </summary>
    private static LoRAConfig AdapterConfigOf(List<PeftKeyLayout.Entry> entries, string adapterName, IReadOnlyList<string> modulesToSave)
    {
        // The nested out_proj of PEFT's attention layout shares its attention's settings (and has no dropout by design).
        var targeted = entries.Where(e => e.TargetPath is not null).ToList();
        var settings = targeted.Select(e => (Path: e.FilePath, Settings: e.Layer.SettingsOf(adapterName), Origin: AdapterOrigins.Find(e.Layer, adapterName))).ToList();
        var problems = new List<string>();
        if (settings.Select(s => s.Settings.UseRsLora).Distinct().Count() > 1) problems.Add("layers disagree on rsLoRA.");
        if (settings.Select(s => s.Settings.UseDora).Distinct().Count() > 1) problems.Add("layers disagree on DoRA.");
        var origins = settings.Select(s => s.Origin).OfType<LoRAConfig>().ToList();
        if (origins.Select(o => o.Bias).Distinct().Count() > 1) problems.Add("layers disagree on the bias mode.");
        if (problems.Count > 0) throw new InvalidConfigurationException($"adapter '{adapterName}' as a PEFT config", problems.Select(p => new SettingProblem("", p)).ToList());

        int rank = settings.GroupBy(s => s.Settings.Rank).OrderByDescending(g => g.Count()).First().Key;
        double alpha = settings.GroupBy(s => s.Settings.Alpha).OrderByDescending(g => g.Count()).First().Key;
        var first = settings[0].Settings;
        var origin = origins.FirstOrDefault() ?? new LoRAConfig();
        var dropouts = entries.Where(e => !IsPeftAttention(e)).Select(e => e.Layer.SettingsOf(adapterName).Dropout).Distinct().ToList();
        if (dropouts.Count > 1) throw new InvalidConfigurationException($"adapter '{adapterName}' as a PEFT config", "layers disagree on dropout.");
        return new LoRAConfig
        {
            Rank = rank,
            Alpha = alpha,
            Dropout = dropouts.Count == 1 ? dropouts[0] : origin.Dropout,
            UseRsLora = first.UseRsLora,
            UseDora = first.UseDora,
            Init = origins.Select(o => o.Init).Distinct().Count() == 1 ? origin.Init : LoRAInit.Default,
            Bias = origin.Bias,
            TaskType = origin.TaskType,
            ExcludeModules = origin.ExcludeModules.ToList(),
            LayersToTransform = origin.LayersToTransform?.ToList(),
            LayersPattern = origin.LayersPattern?.ToList(),
            RankPattern = settings.Where(s => s.Settings.Rank != rank).ToDictionary(s => Regex.Escape(s.Path), s => s.Settings.Rank),
            AlphaPattern = settings.Where(s => s.Settings.Alpha != alpha).ToDictionary(s => Regex.Escape(s.Path), s => s.Settings.Alpha),
            ModulesToSave = modulesToSave.ToList(),
        };
    }

    // PEFT's whole-attention adapters run merged, without dropout; their zero dropout says nothing about the rest.
    private static bool IsPeftAttention(PeftKeyLayout.Entry entry) => entry.FilePath != entry.ModelPath;
}

/// <summary>What <see cref="PeftAdapterFile.Load"/> did.</summary>
/// <param name="Config">The adapter configuration read from <c>adapter_config.json</c>.</param>
/// <param name="Injection">The injection performed because the model lacked the adapter, or null.</param>
/// <param name="LoadedKeys">Model state-dict keys that received values from the file.</param>
/// <param name="Notes">What the reader ignored or defaulted (unknown fields, creation-only settings, this library's extensions PEFT cannot read).</param>
public sealed record PeftAdapterLoadReport(LoRAConfig Config, InjectionReport? Injection, IReadOnlyList<string> LoadedKeys, IReadOnlyList<string> Notes);
