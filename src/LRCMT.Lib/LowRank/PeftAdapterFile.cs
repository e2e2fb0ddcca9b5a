using LRCMT.Checkpoints;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

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

    /// <summary>Name of the configuration file inside an adapter folder.</summary>
    public const string ConfigFileName = "adapter_config.json";

    private const string Prefix = "base_model.model.";

    /// <summary>Writes adapter <paramref name="adapterName"/> of <paramref name="model"/> to <paramref name="directory"/>.</summary>
    /// <param name="model">A model with the adapter injected.</param>
    /// <param name="directory">Folder to write (created if needed; existing files are replaced).</param>
    /// <param name="adapterName">Which adapter to save.</param>
    /// <param name="modulesToSave">Paths of fully trained modules to include (e.g. <see cref="InjectionReport.ModulesToSave"/>).</param>
    /// <param name="baseModelNameOrPath">Recorded as <c>base_model_name_or_path</c>.</param>
    /// <exception cref="AdapterException">No module carries the adapter, or a module to save does not exist.</exception>
    /// <exception cref="InvalidConfigurationException">The layers disagree on rsLoRA, DoRA or dropout, which PEFT's config cannot express.</exception>
    public static void Save(nn.Module model, string directory, string adapterName = "default",
        IReadOnlyList<string>? modulesToSave = null, string? baseModelNameOrPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var layers = LayersWith(model, adapterName);
        var saved = modulesToSave ?? [];
        var config = AdapterConfigOf(layers, adapterName, saved);

        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (path, layer) in layers)
            foreach (var (suffix, tensor) in layer.AdapterTensors(adapterName))
                tensors.Add(new(Prefix + path + "." + suffix, tensor));
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var path in saved)
        {
            if (!modules.TryGetValue(path, out var module))
                throw new AdapterException(path, "it is listed in modulesToSave but the model has no such module.");
            foreach (var (name, parameter) in module.named_parameters())
                tensors.Add(new(Prefix + path + "." + name, parameter));
        }

        Directory.CreateDirectory(directory);
        SafetensorsFile.Save(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.WriteAllText(Path.Combine(directory, ConfigFileName), PeftAdapterConfigJson.Write(config, baseModelNameOrPath));
    }

    /// <summary>Reads a folder's <c>adapter_config.json</c> as a <see cref="LoRAConfig"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no adapter_config.json.</exception>
    /// <exception cref="CorruptFileException">The file is not valid JSON or has mistyped fields.</exception>
    /// <exception cref="InvalidConfigurationException">The adapter is not a plain LoRA adapter.</exception>
    public static LoRAConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {ConfigFileName} in '{directory}'.", path);
        return PeftAdapterConfigJson.Read(path);
    }

    /// <summary>
    /// Loads an adapter folder into <paramref name="model"/>. If the model does not carry adapter
    /// <paramref name="adapterName"/> yet, it is injected first from the folder's configuration. Every name and shape
    /// is checked before anything is copied.
    /// </summary>
    /// <returns>The configuration read, the injection report (null when the adapter existed) and the keys loaded.</returns>
    /// <exception cref="CheckpointMismatchException">Adapter tensors are missing, unexpected or of the wrong shape.</exception>
    public static PeftAdapterLoadReport Load(nn.Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = ReadConfig(directory);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"No {WeightsFileName} in '{directory}'.", weightsPath);

        var injection = model.modules().OfType<LoRALayer>().Any(l => l.AdapterNames.Contains(adapterName))
            ? null
            : LowRankInjector.Inject(model, config, adapterName);

        var file = SafetensorsFile.Load(weightsPath);
        try
        {
            var expected = ExpectedKeys(model, adapterName, config.ModulesToSave);
            var source = file.ToDictionary(kv => ToModelKey(kv.Key, expected), kv => kv.Value);
            var adapterKeys = expected.Values.ToHashSet();
            var loaded = StateDictLoader.Load(model, source, weightsPath,
                new StateDictLoadOptions(MayBeMissing: key => !adapterKeys.Contains(key), MayBeUnexpected: _ => false));
            Substitution.AdapterRefresh.RefreshQuietly(model); // layers adapted in place hand the loaded weights to their modules
            return new PeftAdapterLoadReport(config, injection, loaded.LoadedKeys);
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>Model state-dict key of every file key this adapter should have, by file key without the prefix.</summary>
    private static Dictionary<string, string> ExpectedKeys(nn.Module model, string adapterName, IEnumerable<string> modulesToSave)
    {
        var expected = new Dictionary<string, string>();
        foreach (var (path, layer) in LayersWith(model, adapterName))
            foreach (var (suffix, _) in layer.AdapterTensors(adapterName))
                expected[$"{path}.{suffix}"] = suffix == "lora_magnitude_vector"
                    ? $"{path}.lora_magnitude_vector.{adapterName}.weight"
                    : $"{path}.{suffix[..suffix.IndexOf('.')]}.{adapterName}.weight";
        foreach (var (path, module) in model.named_modules().Where(m => TargetMatcher.MatchesAny(modulesToSave, m.name)))
            foreach (var (name, _) in module.named_parameters())
                expected[$"{path}.{name}"] = $"{path}.{name}";
        return expected;
    }

    // Unknown keys keep their file name, so the loader reports them as unexpected.
    private static string ToModelKey(string fileKey, Dictionary<string, string> expected)
    {
        var key = fileKey.StartsWith(Prefix, StringComparison.Ordinal) ? fileKey[Prefix.Length..] : fileKey;
        return expected.TryGetValue(key, out var modelKey) ? modelKey : fileKey;
    }

    private static List<(string Path, LoRALayer Layer)> LayersWith(nn.Module model, string adapterName)
    {
        var layers = model.named_modules()
            .Where(m => m.module is LoRALayer l && l.AdapterNames.Contains(adapterName))
            .Select(m => (m.name, (LoRALayer)m.module)).ToList();
        if (layers.Count == 0) throw new AdapterException(null, $"no module of the model carries adapter '{adapterName}'.");
        return layers;
    }

    /// <summary>Describes the adapter as one PEFT config: the most common rank/alpha, with per-module patterns for the rest.</summary>
    private static LoRAConfig AdapterConfigOf(List<(string Path, LoRALayer Layer)> layers, string adapterName, IReadOnlyList<string> modulesToSave)
    {
        var settings = layers.Select(l => (l.Path, Settings: l.Layer.SettingsOf(adapterName))).ToList();
        var problems = new List<string>();
        if (settings.Select(s => s.Settings.UseRsLora).Distinct().Count() > 1) problems.Add("layers disagree on rsLoRA.");
        if (settings.Select(s => s.Settings.UseDora).Distinct().Count() > 1) problems.Add("layers disagree on DoRA.");
        if (settings.Select(s => s.Settings.Dropout).Distinct().Count() > 1) problems.Add("layers disagree on dropout.");
        if (problems.Count > 0) throw new InvalidConfigurationException($"adapter '{adapterName}' as a PEFT config", problems);

        int rank = settings.GroupBy(s => s.Settings.Rank).OrderByDescending(g => g.Count()).First().Key;
        double alpha = settings.GroupBy(s => s.Settings.Alpha).OrderByDescending(g => g.Count()).First().Key;
        var first = settings[0].Settings;
        return new LoRAConfig
        {
            Rank = rank,
            Alpha = alpha,
            Dropout = first.Dropout,
            UseRsLora = first.UseRsLora,
            UseDora = first.UseDora,
            // PEFT matches list entries as path suffixes; the last segment (two for in_proj slices) names each target.
            TargetModules = layers.Select(l => TargetName(l.Path)).Distinct().Order(StringComparer.Ordinal).ToList(),
            RankPattern = settings.Where(s => s.Settings.Rank != rank).ToDictionary(s => s.Path, s => s.Settings.Rank),
            AlphaPattern = settings.Where(s => s.Settings.Alpha != alpha).ToDictionary(s => s.Path, s => s.Settings.Alpha),
            ModulesToSave = modulesToSave.ToList(),
        };
    }

    private static string TargetName(string path)
    {
        var parts = path.Split('.');
        return parts.Length >= 2 && parts[^2] == "in_proj" ? $"in_proj.{parts[^1]}" : parts[^1];
    }
}

/// <summary>What <see cref="PeftAdapterFile.Load"/> did.</summary>
/// <param name="Config">The adapter configuration read from <c>adapter_config.json</c>.</param>
/// <param name="Injection">The injection performed because the model lacked the adapter, or null.</param>
/// <param name="LoadedKeys">Model state-dict keys that received values from the file.</param>
public sealed record PeftAdapterLoadReport(LoRAConfig Config, InjectionReport? Injection, IReadOnlyList<string> LoadedKeys);
