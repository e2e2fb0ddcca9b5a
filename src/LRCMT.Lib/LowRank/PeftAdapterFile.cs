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

    /// <summary>
    /// Writes adapter <paramref name="adapterName"/> of <paramref name="model"/> to <paramref name="directory"/>: its
    /// tensors, the biases its <see cref="LoRAConfig.Bias"/> trains, the parameters of its
    /// <see cref="LoRAConfig.ModulesToSave"/>, and its record (<see cref="AdapterControl.GetAdapterConfig"/>) as
    /// <c>adapter_config.json</c>. <c>target_modules</c> is written as configured (all-linear as the names it selected),
    /// unless under PEFT's matching rule it would select other modules of <paramref name="model"/> than the adapted ones
    /// (e.g. when saving from a parent of the module the adapter was injected into): then it lists their full paths.
    /// </summary>
    /// <param name="model">A model with the adapter injected (or a module that contains it).</param>
    /// <param name="directory">Folder to write (created if needed; existing files are replaced).</param>
    /// <param name="adapterName">Which adapter to save.</param>
    /// <param name="baseModelNameOrPath">Recorded as <c>base_model_name_or_path</c>; when null, the folder the model was loaded from (if known).</param>
    /// <param name="revision">Recorded as <c>revision</c> (the base model's hub revision), or null.</param>
    /// <exception cref="AdapterException">No module carries the adapter, it was injected twice into parts of the model, or PEFT's target rule cannot select exactly the adapted modules.</exception>
    /// <exception cref="InvalidConfigurationException">Layers given the adapter by hand disagree on rsLoRA, DoRA or dropout, which one PEFT config cannot express.</exception>
    /// <exception cref="OutputFileException">A file cannot be written (disk full, file too large, read-only, permission).</exception>
    public static void Save(nn.Module model, string directory, string adapterName = "default", string? baseModelNameOrPath = null, string? revision = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Write(model, directory, adapterName, baseModelNameOrPath, revision, conversion: null);
    }

    /// <summary>
    /// Writes a PiSSA or OLoRA adapter as a plain LoRA adapter relative to the <b>original</b> base weight W0 (PEFT's
    /// <c>save_pretrained(…, path_initial_model_for_weight_conversion=…)</c>), so tools that load LoRA onto the
    /// unchanged base model can use it. Such an adapter was trained on the residual W0 − s·B₀·A₀; with A₀, B₀ read from
    /// <paramref name="initialAdapterDirectory"/> (the adapter as <see cref="Save"/> wrote it right after injection, before
    /// training), the written adapter is A' = [A; A₀], B' = [B, −B₀] at rank 2r, with <c>lora_alpha</c> doubled (×√2 with
    /// rsLoRA, so the scaling is unchanged), rank and alpha patterns doubled and <c>init_lora_weights</c> true:
    /// W0 + s·B'·A' = W0 − s·B₀·A₀ + s·B·A, exactly what the model computes now. Biases and modules to save are written as
    /// <see cref="Save"/> writes them. The model and the initial folder are not changed.
    /// </summary>
    /// <param name="model">A model carrying the adapter (a module that contains it).</param>
    /// <param name="directory">Folder to write (created if needed; existing files are replaced).</param>
    /// <param name="initialAdapterDirectory">The adapter folder saved before training (A₀, B₀).</param>
    /// <param name="adapterName">Which adapter to write.</param>
    /// <param name="baseModelNameOrPath">Recorded as <c>base_model_name_or_path</c>; when null, the folder the model was loaded from (if known).</param>
    /// <param name="revision">Recorded as <c>revision</c>, or null.</param>
    /// <exception cref="AdapterException">No module carries the adapter, it is a DoRA adapter, or it uses rsLoRA together with rank or alpha patterns (PEFT refuses both conversions too).</exception>
    /// <exception cref="CheckpointMismatchException">The initial folder lacks some of the adapter's A/B tensors or holds them in other shapes.</exception>
    /// <exception cref="FileNotFoundException">The initial folder has no adapter weights file.</exception>
    public static void SaveConvertedToLoRA(nn.Module model, string directory, string initialAdapterDirectory, string adapterName = "default",
        string? baseModelNameOrPath = null, string? revision = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(initialAdapterDirectory);
        var entries = EntriesWith(model, adapterName);
        var initialPath = WeightsFileIn(initialAdapterDirectory);
        using var conversion = PrincipalConversion.Prepare(AdapterRecord.Of(model, adapterName)!, entries, adapterName, ReadWeights(initialPath), initialPath, Prefix);
        Write(model, directory, adapterName, baseModelNameOrPath, revision, conversion);
    }

    private static void Write(nn.Module model, string directory, string adapterName, string? baseModelNameOrPath, string? revision, PrincipalConversion? conversion)
    {
        var entries = EntriesWith(model, adapterName);
        var config = AdapterRecord.Of(model, adapterName)!;

        var filePaths = entries.ToDictionary(e => e.ModelPath, e => e.FilePath);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var entry in entries)
            foreach (var (suffix, tensor) in entry.Layer.AdapterTensors(adapterName))
            {
                var key = Prefix + entry.FilePath + "." + suffix;
                tensors.Add(new(key, conversion?.Converted(key, tensor) ?? tensor));
            }
        var written = tensors.Select(t => t.Value.Handle).ToHashSet();
        foreach (var (key, parameter, adaptedLayer) in BiasTraining.Selected(model, config.Bias))
            if (written.Add(parameter.Handle)) tensors.Add(new(Prefix + PeftKeyLayout.BiasFileKey(key, adaptedLayer, filePaths), parameter));
        foreach (var (path, module) in ModulesToSave(model, config))
            foreach (var (name, parameter) in module.named_parameters())
                if (written.Add(parameter.Handle)) tensors.Add(new(Prefix + path + "." + name, parameter));

        config = WithTargetsPeftSelects(config, entries, model, adapterName);
        if (conversion is not null) config = PrincipalConversion.ConvertedConfig(config);
        var extensions = new Dictionary<string, string>();
        if (entries.Any(e => e.IsPerSlice)) extensions[PeftKeyLayout.ExtensionField] = PeftKeyLayout.PerSliceLayout;
        var extras = new PeftAdapterConfigJson.Extras(baseModelNameOrPath ?? ModelSources.FolderOf(model), revision, ModelSources.AutoMappingOf(model), extensions);

        Directory.CreateDirectory(directory);
        SafetensorsFile.Save(Path.Combine(directory, WeightsFileName), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var configPath = Path.Combine(directory, ConfigFileName);
        IO.OutputFile.Write(configPath, () => File.WriteAllText(configPath, PeftAdapterConfigJson.Write(config, extras)));
    }

    /// <summary>
    /// <paramref name="config"/> if PEFT's rule, applied to the module names PEFT would see in <paramref name="model"/>,
    /// selects exactly the adapted modules; else the same with the adapted modules' full paths as targets.
    /// </summary>
    private static LoRAConfig WithTargetsPeftSelects(LoRAConfig config, List<PeftKeyLayout.Entry> entries, nn.Module model, string adapterName)
    {
        var adapted = entries.Where(e => e.TargetPath is not null).Select(e => e.TargetPath!).ToHashSet(StringComparer.Ordinal);
        var names = PeftKeyLayout.BaseModuleNames(model);
        if (PeftSelects(config, names, model).SetEquals(adapted)) return config;
        var exact = config with
        {
            TargetModules = [.. adapted.Order(StringComparer.Ordinal)], TargetRegex = null,
            ExcludeModules = [], LayersToTransform = null, LayersPattern = null,
        };
        if (PeftSelects(exact, names, model).SetEquals(adapted)) return exact;
        throw new AdapterException(null,
            $"PEFT's target rule cannot select exactly the modules that carry adapter '{adapterName}' in this model (is an adapted module also a module to save, or is one path a suffix of another?).");
    }

    /// <summary>
    /// The module paths among <paramref name="moduleNames"/> that PEFT's rule selects under <paramref name="config"/>
    /// (<see cref="LoRAConfig.AllLinear"/> resolved in <paramref name="model"/>).
    /// </summary>
    internal static HashSet<string> PeftSelects(LoRAConfig config, IEnumerable<string> moduleNames, nn.Module model)
    {
        var matcher = new TargetMatcher(config, model);
        return moduleNames.Where(matcher.IsTarget).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The modules kept fully trainable with the adapter (PEFT's <c>modules_to_save</c>), by path.</summary>
    private static IEnumerable<(string Path, nn.Module Module)> ModulesToSave(nn.Module model, LoRAConfig config)
        => model.named_modules().Where(m => TargetMatcher.MatchesAny(config.ModulesToSave, m.name));

    /// <summary>Reads a folder's <c>adapter_config.json</c> as a <see cref="LoRAConfig"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no adapter_config.json.</exception>
    /// <exception cref="CorruptFileException">The file is not valid JSON or has mistyped fields.</exception>
    /// <exception cref="InvalidConfigurationException">The adapter is not a plain LoRA adapter.</exception>
    public static LoRAConfig ReadConfig(string directory) => ReadConfigFile(directory).Config;

    private static PeftAdapterConfigJson.ReadResult ReadConfigFile(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, ConfigFileName);
        if (!IO.InputFile.IsPresent(path)) throw new FileNotFoundException($"No {ConfigFileName} in '{directory}'.", path);
        return PeftAdapterConfigJson.Read(path);
    }

    /// <summary>
    /// Loads an adapter folder into <paramref name="model"/>. If the model does not carry adapter
    /// <paramref name="adapterName"/> yet, it is injected first from the folder's configuration — into any model
    /// <see cref="LowRankInjector.Inject"/> accepts, so when <paramref name="model"/> is itself a native TorchSharp
    /// transformer module the adapter goes into its managed twin, which <see cref="PeftAdapterLoadReport.Model"/> returns.
    /// If it does carry the adapter, the file's configuration must agree with the adapter's record. Every name and
    /// shape is checked before anything is copied.
    /// </summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="directory">The adapter folder.</param>
    /// <param name="adapterName">The adapter to load into (injected when missing).</param>
    /// <param name="options">How to inject the adapter when the model lacks it (native modules' settings, strict refresh).</param>
    /// <returns>The model to use, the configuration read, the injection report (null when the adapter existed), the keys loaded and notes on the file.</returns>
    /// <exception cref="AdapterConfigMismatchException">The model already carries the adapter with settings that differ from the file's (each field named).</exception>
    /// <exception cref="CheckpointMismatchException">Adapter tensors are missing, unexpected or of the wrong shape.</exception>
    public static PeftAdapterLoadReport Load(nn.Module model, string directory, string adapterName = "default", InjectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var read = ReadConfigFile(directory);
        var config = read.Config;
        var weightsPath = WeightsFileIn(directory);

        InjectionReport? injection = null;
        if (AdapterRecord.Of(model, adapterName) is { } record)
            AdapterRecordCheck.ThrowIfDifferent(record, config, model, adapterName, Path.Combine(directory, ConfigFileName));
        else
        {
            injection = LowRankInjector.Inject(model, config, adapterName, options);
            model = injection.Model;
        }

        var file = ReadWeights(weightsPath);
        try
        {
            var expected = ExpectedKeys(model, adapterName, config);
            var source = file.ToDictionary(kv => ToModelKey(kv.Key, expected), kv => kv.Value);
            var adapterKeys = expected.Values.ToHashSet();
            var loaded = StateDictLoader.Load(model, source, weightsPath,
                new StateDictLoadOptions(MayBeMissing: key => !adapterKeys.Contains(key), MayBeUnexpected: _ => false));
            Substitution.AdapterRefresh.RefreshQuietly(model); // layers adapted in place hand the loaded weights to their modules
            return new PeftAdapterLoadReport(config, injection, loaded.LoadedKeys, read.Notes) { Model = model };
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// Replaces the weights of adapter <paramref name="adapterName"/>, which <paramref name="model"/> already carries,
    /// with those of an adapter folder, in place (PEFT's <c>hotswap_adapter</c>): no module or parameter is created or
    /// replaced, so a serving process keeps its model object, its modules and their tensors. The folder's adapter must
    /// target the same modules with the same dropout, rsLoRA, DoRA, bias and modules to save; its rank may be smaller
    /// than the slot's on any layer (the rest of A and B becomes zeros, which changes nothing) but not larger, so inject
    /// the slot with the largest rank you will swap in. The slot then computes with the folder's scaling (its
    /// <c>lora_alpha</c> over its rank), and its record (<see cref="AdapterControl.GetAdapterConfig"/>) states the
    /// alpha that gives that scaling at the slot's rank. Every name and shape is checked before anything is copied.
    /// </summary>
    /// <param name="model">The model carrying the adapter slot.</param>
    /// <param name="directory">The adapter folder to swap in.</param>
    /// <param name="adapterName">The slot to fill.</param>
    /// <returns>The configuration read from the folder.</returns>
    /// <exception cref="AdapterException">The model lacks the adapter, it is merged, it was initialised with PiSSA/OLoRA (its base weight is a residual), or a rank in the folder is larger than the slot's.</exception>
    /// <exception cref="AdapterConfigMismatchException">The folder's adapter targets other modules or differs in dropout, rsLoRA, DoRA, bias or modules to save (each field named).</exception>
    /// <exception cref="CheckpointMismatchException">The folder's tensors are not exactly the slot's LoRA tensors, or their shapes do not fit.</exception>
    public static LoRAConfig HotSwap(nn.Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        var read = ReadConfigFile(directory);
        var weightsPath = WeightsFileIn(directory);
        var file = ReadWeights(weightsPath);
        try
        {
            AdapterHotSwap.Swap(model, read.Config, Path.Combine(directory, ConfigFileName), file, weightsPath, adapterName);
            return read.Config;
        }
        finally
        {
            foreach (var tensor in file.Values) tensor.Dispose();
        }
    }

    /// <summary>The folder's weights file: <see cref="WeightsFileName"/>, else <see cref="LegacyWeightsFileName"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has neither.</exception>
    private static string WeightsFileIn(string directory)
    {
        var weightsPath = Path.Combine(directory, WeightsFileName);
        var legacyPath = Path.Combine(directory, LegacyWeightsFileName);
        // A dangling or looping link counts as present, so the reader reports what it is rather than "missing".
        if (!IO.InputFile.IsPresent(weightsPath) && IO.InputFile.IsPresent(legacyPath)) weightsPath = legacyPath;
        if (!IO.InputFile.IsPresent(weightsPath)) throw new FileNotFoundException($"No {WeightsFileName} (or {LegacyWeightsFileName}) in '{directory}'.", weightsPath);
        return weightsPath;
    }

    private static Dictionary<string, Tensor> ReadWeights(string path)
        => Path.GetFileName(path) == LegacyWeightsFileName ? TorchCheckpointFile.Load(path) : SafetensorsFile.Load(path);

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
        foreach (var (path, module) in ModulesToSave(model, config))
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
}

/// <summary>What <see cref="PeftAdapterFile.Load"/> did.</summary>
/// <param name="Config">The adapter configuration read from <c>adapter_config.json</c>.</param>
/// <param name="Injection">The injection performed because the model lacked the adapter, or null.</param>
/// <param name="LoadedKeys">Model state-dict keys that received values from the file.</param>
/// <param name="Notes">What the reader ignored or defaulted (unknown fields, creation-only settings, this library's extensions PEFT cannot read).</param>
public sealed record PeftAdapterLoadReport(LoRAConfig Config, InjectionReport? Injection, IReadOnlyList<string> LoadedKeys, IReadOnlyList<string> Notes)
{
    /// <summary>
    /// The model that holds the loaded adapter — use it from now on: the model passed to <see cref="PeftAdapterFile.Load"/>,
    /// or its managed twin when that was a native TorchSharp transformer module (see <see cref="InjectionReport.Model"/>).
    /// </summary>
    public nn.Module Model { get; init; } = null!;
}
