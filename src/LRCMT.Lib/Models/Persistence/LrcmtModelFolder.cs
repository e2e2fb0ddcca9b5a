using LRCMT.Checkpoints;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.IO;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Models.Persistence;

/// <summary>
/// A trained <see cref="SentimentModel"/> (LRCMT or a baseline) on disk, PEFT-style, kept as one unit: the base encoder is referenced (its source
/// in the description, the hashes of its weights and configuration), not copied. <c>lrcmt_config.json</c> holds the
/// description as built, sealed, with the SHA-256 of every other file; <c>adapter/</c> the LoRA adapter and its
/// configuration in PEFT's format; <c>model.safetensors</c> every other tensor that is not part of the frozen base
/// encoder (fusion, head, and the encoder's own weights when it was fine-tuned). A save is written beside the folder and
/// swapped in whole; a load verifies every file and every size before it builds anything.
/// </summary>
internal static class LrcmtModelFolder
{
    /// <summary>The manifest: the description, the base encoder's hashes, the files' hashes, and where the adapter is.</summary>
    public const string ConfigFileName = "lrcmt_config.json";

    /// <summary>The weights that are neither the frozen base encoder nor the adapter.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The PEFT adapter folder (LoRA-tuned models only).</summary>
    public const string AdapterFolderName = "adapter";

    /// <summary>Every file a save writes, by its path inside the folder: what a save may replace, and nothing else.</summary>
    private static readonly string[] SavedFiles =
    [
        ConfigFileName, WeightsFileName,
        $"{AdapterFolderName}/{PeftAdapterFile.ConfigFileName}", $"{AdapterFolderName}/{PeftAdapterFile.WeightsFileName}",
    ];

    /// <exception cref="OutputFileException">
    /// The folder cannot be written (disk full, file too large, permission), or is taken by something a save must not
    /// replace (a file, a link, a folder holding files a save does not write); the folder is left as it was.
    /// </exception>
    internal static void Save(SentimentModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var baseEncoderSha256 = model.BaseEncoderSha256 ?? throw new InvalidOperationException(
            $"This {model.GetType().Name} was composed by hand, so the untuned encoder it started from is unknown and it cannot be saved with its " +
            "description; build it from a description (LrcmtBuilder.BuildModel) to save and load it, or save its weights with SafetensorsFile.Save(path, model.state_dict()).");
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var parent = Path.GetDirectoryName(target) ?? throw new OutputFileException(target, "a model cannot be saved as a file-system root.");
        RefuseToReplaceOthers(target);
        OutputFile.Write(parent, () => Directory.CreateDirectory(parent));

        // Everything is written to a hidden sibling first and swapped in at the end, so a save that fails midway (a full
        // disk, a kill) leaves the previous model whole, never a mix of old and new files.
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.saving-{Guid.NewGuid():N}");
        try
        {
            WriteFiles(model, staging, baseEncoderSha256);
            Swap(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // this save's own temporary folder
        }
    }

    private static void WriteFiles(SentimentModel model, string staging, string baseEncoderSha256)
    {
        OutputFile.Write(staging, () => Directory.CreateDirectory(staging));
        var options = model.Options;
        var baseKeys = FrozenBaseKeys(model);
        var weights = model.state_dict().Where(kv => !baseKeys.Contains(kv.Key))
            .Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)).ToList();
        SafetensorsFile.Save(Path.Combine(staging, WeightsFileName), weights,
            new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "lrcmt" });

        bool lora = options.TextEncoder.Tuning == EncoderTuning.LoRA;
        if (lora)
            PeftAdapterFile.Save(model.TextEncoder, Path.Combine(staging, AdapterFolderName),
                baseModelNameOrPath: options.TextEncoder.PretrainedFolder ?? options.TextEncoder.OnnxFile);

        new ModelManifest(options, baseEncoderSha256, model.TextEncoder.HiddenSize)
        {
            BaseEncoderConfigSha256 = EncoderFingerprint.ComputeConfiguration(model.TextEncoder),
            Files = FilesRead(lora).ToDictionary(f => f, f => InputFile.Sha256(Path.Combine(staging, f)), StringComparer.Ordinal),
        }.Write(Path.Combine(staging, ConfigFileName), AdapterFolderName);
    }

    /// <summary>The files a load reads besides the manifest, by '/'-separated path: the weights, and for LoRA the adapter's two files.</summary>
    private static string[] FilesRead(bool lora) => lora
        ? [WeightsFileName, $"{AdapterFolderName}/{PeftAdapterFile.ConfigFileName}", $"{AdapterFolderName}/{PeftAdapterFile.WeightsFileName}"]
        : [WeightsFileName];

    /// <summary>Puts <paramref name="staging"/> at <paramref name="target"/>; a model already there is moved aside first and removed only after.</summary>
    private static void Swap(string staging, string target) => OutputFile.Write(target, () =>
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(staging, target);
            return;
        }

        var previous = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.previous-{Guid.NewGuid():N}");
        Directory.Move(target, previous);
        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Move(previous, target);
            throw;
        }
        RemoveSavedModel(previous);
    });

    /// <summary>
    /// A save replaces only a model: nothing, an empty folder, or a folder holding only the files a save writes (and the
    /// temporary files of an interrupted one). A file, a link, or a folder with anything else is refused, so nothing the
    /// user kept there is moved or deleted.
    /// </summary>
    private static void RefuseToReplaceOthers(string target)
    {
        if (File.Exists(target))
            throw new OutputFileException(target, "it is a file; a model is saved as a folder. Choose another path.");
        if (!Directory.Exists(target)) return;
        if (new DirectoryInfo(target).LinkTarget is not null)
            throw new OutputFileException(target, "it is a symbolic link; save to the folder it points to, or to a new path.");
        var others = ForeignEntries(target).Take(4).ToList();
        if (others.Count > 0)
            throw new OutputFileException(target,
                $"it holds files a saved model does not ({string.Join(", ", others)}); save into a new folder, an empty one, " +
                "or one that holds only a saved model, so that nothing kept there is replaced.");
    }

    // Entries under folder that a save does not write, as '/'-separated paths.
    private static IEnumerable<string> ForeignEntries(string folder)
    {
        var ours = SavedFiles.ToHashSet(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(folder, entry).Replace('\\', '/');
            bool isFolder = Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null;
            if (isFolder ? relative == AdapterFolderName : ours.Contains(relative) || IsInterruptedWrite(relative)) continue;
            yield return relative;
        }
    }

    // The temporary file of a write that was killed: ".<name>.<32 hex>.tmp" (SafetensorsFile.Save).
    private static bool IsInterruptedWrite(string relative)
    {
        var name = relative[(relative.LastIndexOf('/') + 1)..];
        return name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) && name.Length > 38
            && name[^37] == '.' && name[^36..^4].All(char.IsAsciiHexDigit);
    }

    /// <summary>Deletes a replaced model's files and then its folders; anything else that appeared in the meantime stays.</summary>
    private static void RemoveSavedModel(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList())
        {
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            if (SavedFiles.Contains(relative, StringComparer.Ordinal) || IsInterruptedWrite(relative)) File.Delete(file);
        }
        foreach (var sub in new[] { Path.Combine(folder, AdapterFolderName), folder })
            if (Directory.Exists(sub) && !Directory.EnumerateFileSystemEntries(sub).Any()) Directory.Delete(sub);
    }

    /// <param name="folder">A folder written by <see cref="SentimentModel.Save"/> (or by an earlier release, formats 1 and 2).</param>
    /// <exception cref="FileNotFoundException">The folder lacks its manifest (or, for LoRA, its adapter configuration).</exception>
    /// <exception cref="CorruptFileException">The manifest is not valid, or it or the adapter configuration was edited after saving.</exception>
    /// <exception cref="InvalidConfigurationException">The description's values are invalid.</exception>
    internal static LrcmtOptions ReadOptions(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        return ModelManifest.Read(Require(Path.Combine(Path.GetFullPath(folder), ConfigFileName))).Options;
    }

    /// <param name="folder">A folder written by <see cref="SentimentModel.Save"/> (or by an earlier release, formats 1 and 2).</param>
    /// <param name="baseEncoder">
    /// The untuned base encoder, loaded by the caller (the model takes ownership of it); null loads it from the folder
    /// or ONNX file the description names.
    /// </param>
    /// <returns>The model in evaluation mode, built from the saved description (base dtype included).</returns>
    /// <exception cref="FileNotFoundException">The folder lacks one of its files.</exception>
    /// <exception cref="InputFileException">A file of the folder is not a regular file (a FIFO, a device, a link loop) or is over its size limit.</exception>
    /// <exception cref="CorruptFileException">
    /// The manifest or a weights file is not valid, the manifest was edited after saving, or a file of the folder does
    /// not hash as the manifest recorded (changed, replaced, or from another save).
    /// </exception>
    /// <exception cref="BaseEncoderMismatchException">The base encoder's weights or configuration do not hash as recorded.</exception>
    /// <exception cref="CheckpointMismatchException">
    /// A saved tensor is missing, unexpected, of another shape or dtype than the description's model (checked against
    /// the weights file's header before the model is allocated), or belongs to the frozen base encoder.
    /// </exception>
    /// <exception cref="InvalidConfigurationException">The description is invalid, or names no encoder source (it was given in code) and none was passed.</exception>
    internal static SentimentModel Load(string folder, TextEncoder? baseEncoder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = Path.GetFullPath(folder);
        var manifestPath = Require(Path.Combine(folder, ConfigFileName));
        var manifest = ModelManifest.Read(manifestPath);
        var options = manifest.Options;
        bool lora = options.TextEncoder.Tuning == EncoderTuning.LoRA;
        var weightsPath = Require(Path.Combine(folder, WeightsFileName));
        string adapterFolder = Path.Combine(folder, AdapterFolderName);
        if (lora) Require(Path.Combine(adapterFolder, PeftAdapterFile.WeightsFileName));

        // The folder as a unit, before anything is built: every file as saved, and every size against the weights.
        manifest.VerifyFiles(folder, FilesRead(lora), manifestPath);
        // The shapes of LRCMT's own parts are known without building them; a baseline's are compared after it is built.
        if (manifest.Options.Architecture == ModelArchitecture.Lrcmt) CheckShapesBeforeBuilding(manifest, weightsPath);

        var encoder = baseEncoder ?? LoadRecordedEncoder(options.TextEncoder, folder);
        try
        {
            // Layers that can carry adapters (an int8 base's QuantizedLinear) are fine; adapters already on them are not.
            if (encoder.modules().OfType<LoRALayer>().Any(layer => layer.AdapterNames.Count > 0))
                throw new InvalidConfigurationException("base encoder", "it already carries LoRA adapters; pass the untuned pretrained encoder.");
            var source = options.TextEncoder.PretrainedFolder ?? options.TextEncoder.OnnxFile;
            if (manifest.BaseEncoderConfigSha256 is { } recordedConfig
                && EncoderFingerprint.ComputeConfiguration(encoder) is var actualConfig
                && !string.Equals(actualConfig, recordedConfig, StringComparison.OrdinalIgnoreCase))
                throw new BaseEncoderMismatchException(folder, source, recordedConfig, actualConfig,
                    "configuration (config.json: activation, epsilon, heads, sizes)");
            var actual = SentimentModel.PrepareBase(encoder, options);
            if (!string.Equals(actual, manifest.BaseEncoderSha256, StringComparison.OrdinalIgnoreCase)
                && !(baseEncoder is null && IsEarlierInt8Base(options.TextEncoder, manifest.BaseEncoderSha256)))
                throw new BaseEncoderMismatchException(folder, source, manifest.BaseEncoderSha256, actual);

            // The base as this release holds it: a model re-saved from here records today's layout.
            var model = SentimentModel.Compose(encoder, options, actual);
            try
            {
                if (lora) PeftAdapterFile.Load(model.TextEncoder, adapterFolder);
                LoadWeights(model, weightsPath);
                model.eval();
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        catch
        {
            if (baseEncoder is null) encoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The weights file must hold every tensor the description creates outside the encoder, in its shape. Compared from
    /// the file's header against the description's model built on the meta device, so a description that asks for far
    /// more than was saved (a 65,536-wide fusion over a small file) is refused before any of it is allocated.
    /// </summary>
    private static void CheckShapesBeforeBuilding(ModelManifest manifest, string weightsPath)
    {
        var header = SafetensorsFile.ReadHeader(weightsPath);
        var missing = new List<string>();
        var mismatches = new List<string>();
        foreach (var (key, shape) in LRCMTModel.ShapesOutsideEncoder(manifest.Options, manifest.HiddenSize).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!header.Entries.TryGetValue(key, out var entry)) missing.Add(key);
            else if (!entry.Shape.SequenceEqual(shape))
                mismatches.Add($"{key}: expected {ShapeMismatchException.Format(shape)} but got {ShapeMismatchException.Format(entry.Shape)}");
        }
        if (missing.Count > 0 || mismatches.Count > 0)
            throw new CheckpointMismatchException(weightsPath, missing, [], mismatches);
    }

    private static void LoadWeights(SentimentModel model, string weightsPath)
    {
        var baseKeys = FrozenBaseKeys(model);
        // The frozen base comes from the base encoder (whose hash was checked) and the adapter from adapter/: a key of
        // either in model.safetensors would overwrite them after their checks, so it is refused before anything is read.
        var intruders = SafetensorsFile.ReadHeader(weightsPath).Entries.Keys.Where(baseKeys.Contains).Order(StringComparer.Ordinal).ToList();
        if (intruders.Count > 0) throw new CheckpointMismatchException(weightsPath, [], intruders, []);
        var weights = SafetensorsFile.Load(weightsPath);
        try
        {
            // Strict: every key that is not the frozen base must be in the file, and nothing else may be.
            StateDictLoader.Load(model, weights, weightsPath, new StateDictLoadOptions(MayBeMissing: baseKeys.Contains, MayBeUnexpected: _ => false));
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// The model's state-dict keys that belong to the frozen base encoder or its adapter (found by structure: the
    /// child module that is the text encoder, its frozen parameters and buffers, and <see cref="LoRALayer"/> adapter
    /// tensors): the base encoder supplies the former, <c>adapter/</c> the latter.
    /// </summary>
    private static HashSet<string> FrozenBaseKeys(SentimentModel model)
    {
        var encoder = model.TextEncoder;
        var prefix = model.named_children().Single(c => ReferenceEquals(c.module, encoder)).name + ".";
        var adapters = encoder.modules().OfType<LoRALayer>().SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, parameter) in encoder.named_parameters())
            if (!parameter.requires_grad || adapters.Contains(parameter.Handle)) keys.Add(prefix + name);
        foreach (var (name, _) in encoder.named_buffers()) keys.Add(prefix + name);
        return keys;
    }

    /// <summary>
    /// Until 5 December 2026 an int8 base held its embeddings, LayerNorms and biases in float32 (it computes in bfloat16
    /// since), so a model saved before records the fingerprint of that layout: the recorded encoder loaded again, its
    /// projections quantized and nothing else converted. Such a model loads onto today's base — the same int8 codes and
    /// scales, the rest rounded to bfloat16 — so its predictions move by the bfloat16 tolerance (docs/performance.md).
    /// Checked only after the fingerprint failed, and only for an encoder this load read itself (one passed in code
    /// cannot be read again as float32).
    /// </summary>
    private static bool IsEarlierInt8Base(TextEncoderOptions source, string recorded)
    {
        if (source.BaseDType != BaseDType.Int8) return false;
        using var encoder = LrcmtBuilder.LoadEncoder(source);
        BasePrecision.QuantizeProjections(encoder); // freezes the base too
        return string.Equals(EncoderFingerprint.Compute(encoder), recorded, StringComparison.OrdinalIgnoreCase);
    }

    private static TextEncoder LoadRecordedEncoder(TextEncoderOptions source, string folder)
    {
        if (!string.IsNullOrWhiteSpace(source.PretrainedFolder) || !string.IsNullOrWhiteSpace(source.OnnxFile))
        {
            try
            {
                return LrcmtBuilder.LoadEncoder(source);
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
            {
                // The base encoder's location is the one field of the manifest that may be edited (a moved encoder).
                throw new InvalidConfigurationException($"model '{folder}'",
                    $"its base encoder ({source.PretrainedFolder ?? source.OnnxFile}) cannot be found: {e.Message} Point options.TextEncoder in " +
                    $"{ConfigFileName} to where it is now, or pass it to SentimentModel.Load(folder, baseEncoder).");
            }
        }

        throw new InvalidConfigurationException($"model '{folder}'",
            "it was built on a text encoder given in code, so its base encoder cannot be loaded from a path; pass it to SentimentModel.Load(folder, baseEncoder).");
    }

    // A dangling or looping link counts as present, so the reader reports what it is rather than "missing".
    private static string Require(string path) =>
        InputFile.IsPresent(path) ? path : throw new FileNotFoundException($"The saved model lacks '{Path.GetFileName(path)}' ({path}).", path);
}
