using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.IO;
using LRCMT.LowRank;
using LRCMT.TextEncoders;

namespace LRCMT.Models.Persistence;

/// <summary>
/// <c>lrcmt_config.json</c>: the saved model's whole description (<see cref="LrcmtOptions"/>, as it was built), what the
/// base encoder must be (the hashes of its weights and of its configuration), for a LoRA-tuned model the folder whose
/// <c>adapter_config.json</c> holds its LoRA configuration (kept there once, not copied), and the SHA-256 of every file
/// of the folder that loading reads. The manifest seals itself: <c>manifest_sha256</c> is the hash of the rest of it,
/// so an edit to the description (tuning, dtype, fusion…) is refused instead of loading as another model. Only the base
/// encoder's location (<c>options.TextEncoder.PretrainedFolder</c>/<c>OnnxFile</c>) may change: the base's own hashes
/// check whatever is found there. Formats 1 and 2 (earlier releases, without file hashes) are read as they were.
/// </summary>
/// <param name="Options">The description; its LoRA section is the adapter folder's configuration for a LoRA-tuned model.</param>
/// <param name="BaseEncoderSha256">SHA-256 of the untuned base encoder's weights (<see cref="EncoderFingerprint.Compute"/>).</param>
/// <param name="HiddenSize">The base encoder's hidden size.</param>
internal sealed record ModelManifest(LrcmtOptions Options, string BaseEncoderSha256, int HiddenSize)
{
    public const int CurrentFormat = 3;

    /// <summary>The field holding the manifest's own hash.</summary>
    internal const string SealField = "manifest_sha256";

    /// <summary>SHA-256 of the base encoder's configuration (<see cref="EncoderFingerprint.ComputeConfiguration"/>); null before format 3.</summary>
    public string? BaseEncoderConfigSha256 { get; init; }

    /// <summary>SHA-256 of every file loading reads, by its '/'-separated path inside the model folder; null before format 3.</summary>
    public IReadOnlyDictionary<string, string>? Files { get; init; }

    // Enum values are names only: a number (e.g. "Tuning": 5) is a corrupt manifest, not a cast.
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        IgnoreReadOnlyProperties = true,
        Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the manifest, sealed; a LoRA-tuned model's LoRA section is replaced by a pointer to <paramref name="adapterFolderName"/> (and the one setting PEFT's file cannot hold).</summary>
    /// <exception cref="OutputFileException">The file cannot be written.</exception>
    public void Write(string path, string adapterFolderName)
    {
        var options = JsonSerializer.SerializeToNode(Options, Json)!.AsObject();
        bool lora = Options.TextEncoder.Tuning == EncoderTuning.LoRA;
        // A LoRA model's configuration lives in the adapter folder; only what PEFT's file has no field for stays here.
        if (lora) options[nameof(LrcmtOptions.LoRA)] = new JsonObject
        {
            [nameof(LoRAConfig.AllowDropoutOnSubstitutedLayers)] = Options.LoRA.AllowDropoutOnSubstitutedLayers,
        };
        var manifest = new JsonObject
        {
            ["format"] = CurrentFormat,
            ["base_encoder_sha256"] = BaseEncoderSha256,
            ["base_encoder_config_sha256"] = BaseEncoderConfigSha256,
            ["hidden_size"] = HiddenSize,
            ["lora_adapter"] = lora ? adapterFolderName : null,
            ["files"] = new JsonObject((Files ?? new Dictionary<string, string>())
                .OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
            ["options"] = options,
        };
        manifest[SealField] = Seal(manifest);
        OutputFile.Write(path, () => File.WriteAllText(path, manifest.ToJsonString(Json) + "\n"));
    }

    /// <summary>
    /// Reads the manifest of the model folder holding <paramref name="path"/>: its seal is checked first, then (for a
    /// LoRA-tuned model) the adapter configuration's hash before that file is read, then the description's values.
    /// </summary>
    /// <exception cref="CorruptFileException">The file is not a manifest of a supported format, was edited after saving, or the adapter configuration was.</exception>
    /// <exception cref="InputFileException">The manifest or adapter configuration is not a regular file or is over its size limit.</exception>
    /// <exception cref="InvalidConfigurationException">The description's values are invalid.</exception>
    /// <exception cref="FileNotFoundException">A LoRA model's adapter configuration is missing.</exception>
    public static ModelManifest Read(string path)
    {
        JsonObject root;
        try
        {
            var utf8 = InputFile.ReadAllUtf8(path, InputKind.ModelManifest);
            TextEncoders.Tokenization.JsonFields.RequireStrict(utf8, path);
            root = JsonNode.Parse(utf8.Span,
                       documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                   ?? throw new CorruptFileException(path, null, "an LRCMT model manifest must be a JSON object");
            var format = root["format"] is JsonValue value && value.TryGetValue<int>(out var number) ? number : (int?)null;
            var manifest = format switch
            {
                CurrentFormat or 2 => ReadCurrent(root, path, format.Value),
                1 => ModelManifestFormat1.Read(root, path),
                _ => throw new CorruptFileException(path, null,
                    $"model format {root["format"]?.ToJsonString() ?? "(none)"} is not one this release reads (1 to {CurrentFormat})"),
            };
            manifest.Options.Validate();
            return manifest;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(path, null, $"not a valid LRCMT model manifest: {e.Message}", e);
        }
    }

    private static ModelManifest ReadCurrent(JsonObject root, string path, int format)
    {
        string folder = Path.GetDirectoryName(path)!;
        IReadOnlyDictionary<string, string>? files = null;
        if (format >= 3)
        {
            string recorded = Required(root, SealField, path);
            if (!string.Equals(recorded, Seal(root), StringComparison.OrdinalIgnoreCase))
                throw new CorruptFileException(path, null,
                    $"the manifest was edited after the model was saved (it no longer hashes to its {SealField}). A saved model is one unit: " +
                    "build the model you want in code and save it again. Only the base encoder's location (options.TextEncoder.PretrainedFolder or OnnxFile) may be edited.");
            files = ReadFiles(root, path);
        }

        var options = root["options"]?.Deserialize<LrcmtOptions>(Json) ?? throw new CorruptFileException(path, null, "the manifest lacks its options");
        string sha = Required(root, "base_encoder_sha256", path);
        int hidden = root["hidden_size"] is JsonValue h && h.TryGetValue<int>(out var size) ? size : throw new CorruptFileException(path, null, "the manifest lacks hidden_size (a whole number)");
        if (SettingRules.InRange("hidden_size", hidden, 1, BertConfig.MaxWidth) is { } problem)
            throw new CorruptFileException(path, null, $"{problem.Path} {problem.Message}");
        if (options.TextEncoder?.Tuning == EncoderTuning.LoRA)
        {
            string adapter = Required(root, "lora_adapter", path);
            if (Path.IsPathRooted(adapter) || adapter.Split('/', '\\').Contains(".."))
                throw new CorruptFileException(path, null, $"lora_adapter must name a folder inside the model folder, not '{adapter}'");
            var adapterFolder = Path.Combine(folder, adapter);
            if (files is not null) Verify(folder, files, $"{adapter}/{PeftAdapterFile.ConfigFileName}");
            options = options with
            {
                // A manifest without the setting (or with a null LoRA section) takes LoRAConfig's own default.
                LoRA = PeftAdapterFile.ReadConfig(adapterFolder) is var fromFile && options.LoRA is { } saved
                    ? fromFile with { AllowDropoutOnSubstitutedLayers = saved.AllowDropoutOnSubstitutedLayers }
                    : fromFile,
            };
        }

        return new ModelManifest(options, sha, hidden)
        {
            BaseEncoderConfigSha256 = format >= 3 ? Required(root, "base_encoder_config_sha256", path) : null,
            Files = files,
        };
    }

    /// <summary>
    /// Checks that the files a load reads, <paramref name="reads"/>, are exactly those the manifest lists and hash as it
    /// recorded; nothing for a manifest of format 1 or 2, which recorded no hashes.
    /// </summary>
    /// <exception cref="CorruptFileException">The manifest lists other files, or a file does not hash as recorded.</exception>
    public void VerifyFiles(string folder, IReadOnlyCollection<string> reads, string manifestPath)
    {
        if (Files is null) return;
        if (!Files.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(reads))
            throw new CorruptFileException(manifestPath, null,
                $"the manifest's files ({string.Join(", ", Files.Keys.Order(StringComparer.Ordinal))}) are not the ones this model loads ({string.Join(", ", reads.Order(StringComparer.Ordinal))}).");
        foreach (var file in reads) Verify(folder, Files, file);
    }

    /// <exception cref="CorruptFileException">The file is not listed or does not hash as recorded.</exception>
    private static void Verify(string folder, IReadOnlyDictionary<string, string> files, string relative)
    {
        var path = Path.Combine(folder, relative);
        if (!files.TryGetValue(relative, out var expected))
            throw new CorruptFileException(path, null, "the model's manifest records no hash for this file; it was not part of the saved model.");
        var actual = InputFile.Sha256(path);
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            throw new CorruptFileException(path, null,
                $"the file hashes to SHA-256 {actual}, not to the {expected} the manifest recorded when the model was saved: it was changed, " +
                "replaced or copied from another save. A saved model loads only as the unit it was saved as.");
    }

    /// <summary>The SHA-256 of the manifest without its seal and without the base encoder's location (the only part that may be edited).</summary>
    internal static string Seal(JsonObject root)
    {
        var sealed_ = root.DeepClone().AsObject();
        sealed_.Remove(SealField);
        if (sealed_["options"]?[nameof(LrcmtOptions.TextEncoder)] is JsonObject encoder)
        {
            encoder.Remove(nameof(TextEncoderOptions.PretrainedFolder));
            encoder.Remove(nameof(TextEncoderOptions.OnnxFile));
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sealed_.ToJsonString())));
    }

    // "files": { "model.safetensors": "<sha>", "adapter/adapter_config.json": "<sha>", … }, every path inside the folder.
    private static Dictionary<string, string> ReadFiles(JsonObject root, string path)
    {
        if (root["files"] is not JsonObject listed) throw new CorruptFileException(path, null, "the manifest lacks its files (an object of SHA-256 hashes by path)");
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, hash) in listed)
        {
            if (name.Length == 0 || Path.IsPathRooted(name) || name.Contains('\\') || name.Split('/').Any(part => part is "" or "." or ".."))
                throw new CorruptFileException(path, null, $"files['{name}'] must be a '/'-separated path inside the model folder");
            files[name] = hash is JsonValue v && v.TryGetValue<string>(out var text) && text.Length == 64 && text.All(char.IsAsciiHexDigit)
                ? text
                : throw new CorruptFileException(path, null, $"files['{name}'] must be a SHA-256 in hex, got {hash?.ToJsonString() ?? "null"}");
        }
        return files;
    }

    internal static string Required(JsonObject root, string key, string path) =>
        root[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new CorruptFileException(path, null, $"the manifest lacks {key}");

    /// <summary>The serializer settings of the options section (shared with the format-1 reader).</summary>
    internal static JsonSerializerOptions OptionsJson => Json;
}
