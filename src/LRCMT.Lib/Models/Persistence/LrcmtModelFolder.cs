using LRCMT.Checkpoints;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Models.Persistence;

/// <summary>
/// A trained <see cref="SentimentModel"/> (LRCMT or a baseline) on disk, PEFT-style: the base encoder is referenced (its source in the
/// description, and the hash of its weights), not copied. <c>lrcmt_config.json</c> holds the description as built,
/// <c>adapter/</c> the LoRA adapter and its configuration in PEFT's format, and <c>model.safetensors</c> every other
/// tensor that is not part of the frozen base encoder (fusion, head, and the encoder's own weights when it was fine-tuned).
/// </summary>
internal static class LrcmtModelFolder
{
    /// <summary>The manifest: the description, the base encoder's hash, and where the adapter is.</summary>
    public const string ConfigFileName = "lrcmt_config.json";

    /// <summary>The weights that are neither the frozen base encoder nor the adapter.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The PEFT adapter folder (LoRA-tuned models only).</summary>
    public const string AdapterFolderName = "adapter";

    internal static void Save(SentimentModel model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var baseEncoderSha256 = model.BaseEncoderSha256 ?? throw new InvalidOperationException(
            $"This {model.GetType().Name} was composed by hand, so the untuned encoder it started from is unknown and it cannot be saved with its " +
            "description; build it from a description (LrcmtBuilder.BuildModel) to save and load it, or save its weights with SafetensorsFile.Save(path, model.state_dict()).");
        Directory.CreateDirectory(folder);
        var options = model.Options;

        var baseKeys = FrozenBaseKeys(model);
        var weights = model.state_dict().Where(kv => !baseKeys.Contains(kv.Key))
            .Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)).ToList();
        SafetensorsFile.Save(Path.Combine(folder, WeightsFileName), weights,
            new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "lrcmt" });

        string adapterFolder = Path.Combine(folder, AdapterFolderName);
        if (options.TextEncoder.Tuning == EncoderTuning.LoRA)
            PeftAdapterFile.Save(model.TextEncoder, adapterFolder, baseModelNameOrPath: options.TextEncoder.PretrainedFolder ?? options.TextEncoder.OnnxFile);
        else if (Directory.Exists(adapterFolder)) Directory.Delete(adapterFolder, recursive: true);

        new ModelManifest(options, baseEncoderSha256, model.TextEncoder.HiddenSize)
            .Write(Path.Combine(folder, ConfigFileName), AdapterFolderName);
    }

    /// <param name="folder">A folder written by <see cref="SentimentModel.Save"/> (or by an earlier release, format 1).</param>
    /// <exception cref="FileNotFoundException">The folder lacks its manifest (or, for LoRA, its adapter configuration).</exception>
    /// <exception cref="CorruptFileException">The manifest is not valid.</exception>
    internal static LrcmtOptions ReadOptions(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        return ModelManifest.Read(Require(Path.Combine(Path.GetFullPath(folder), ConfigFileName))).Options;
    }

    /// <param name="folder">A folder written by <see cref="SentimentModel.Save"/> (or by an earlier release, format 1).</param>
    /// <param name="baseEncoder">
    /// The untuned base encoder, loaded by the caller (the model takes ownership of it); null loads it from the folder
    /// or ONNX file the description names.
    /// </param>
    /// <returns>The model in evaluation mode, built from the saved description (architecture and base dtype included).</returns>
    /// <exception cref="FileNotFoundException">The folder lacks one of its files.</exception>
    /// <exception cref="CorruptFileException">The manifest or a weights file is not valid.</exception>
    /// <exception cref="BaseEncoderMismatchException">The base encoder's weights do not hash as recorded.</exception>
    /// <exception cref="CheckpointMismatchException">A saved tensor is missing, unexpected, or of another shape or dtype than the rebuilt model's.</exception>
    /// <exception cref="InvalidConfigurationException">The description names no encoder source (it was given in code) and none was passed.</exception>
    internal static SentimentModel Load(string folder, TextEncoder? baseEncoder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = Path.GetFullPath(folder);
        var manifestPath = Require(Path.Combine(folder, ConfigFileName));
        var weightsPath = Require(Path.Combine(folder, WeightsFileName));
        string adapterFolder = Path.Combine(folder, AdapterFolderName);
        var manifest = ModelManifest.Read(manifestPath);
        var options = manifest.Options;
        if (options.TextEncoder.Tuning == EncoderTuning.LoRA) Require(Path.Combine(adapterFolder, PeftAdapterFile.WeightsFileName));

        var encoder = baseEncoder ?? LoadRecordedEncoder(options.TextEncoder, folder);
        try
        {
            // Layers that can carry adapters (an int8 base's QuantizedLinear) are fine; adapters already on them are not.
            if (encoder.modules().OfType<LoRALayer>().Any(layer => layer.AdapterNames.Count > 0))
                throw new InvalidConfigurationException("base encoder", "it already carries LoRA adapters; pass the untuned pretrained encoder.");
            var actual = SentimentModel.PrepareBase(encoder, options);
            if (!string.Equals(actual, manifest.BaseEncoderSha256, StringComparison.OrdinalIgnoreCase))
                throw new BaseEncoderMismatchException(folder, options.TextEncoder.PretrainedFolder ?? options.TextEncoder.OnnxFile,
                    manifest.BaseEncoderSha256, actual);

            var model = SentimentModel.Compose(encoder, options, manifest.BaseEncoderSha256);
            try
            {
                if (options.TextEncoder.Tuning == EncoderTuning.LoRA) PeftAdapterFile.Load(model.TextEncoder, adapterFolder);
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

    private static void LoadWeights(SentimentModel model, string weightsPath)
    {
        var baseKeys = FrozenBaseKeys(model);
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

    private static TextEncoder LoadRecordedEncoder(TextEncoderOptions source, string folder)
    {
        if (!string.IsNullOrWhiteSpace(source.PretrainedFolder) || !string.IsNullOrWhiteSpace(source.OnnxFile)) return LrcmtBuilder.LoadEncoder(source);
        throw new InvalidConfigurationException($"model '{folder}'",
            "it was built on a text encoder given in code, so its base encoder cannot be loaded from a path; pass it to SentimentModel.Load(folder, baseEncoder).");
    }

    private static string Require(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"The saved model lacks '{Path.GetFileName(path)}' ({path}).", path);
}
