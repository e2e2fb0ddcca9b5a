using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank;

namespace LRCMT.Models.Persistence;

/// <summary>
/// <c>lrcmt_config.json</c>: the saved model's whole description (<see cref="LrcmtOptions"/>, as it was built), the
/// hash of the base encoder it needs, and, for a LoRA-tuned model, the folder whose <c>adapter_config.json</c> holds
/// its LoRA configuration (kept there once, not copied). Format 1 manifests (an earlier release's architecture, tuning
/// and LoRA records) are converted on read.
/// </summary>
/// <param name="Options">The description; its LoRA section is the adapter folder's configuration for a LoRA-tuned model.</param>
/// <param name="BaseEncoderSha256">SHA-256 of the untuned base encoder's weights (<see cref="EncoderFingerprint"/>).</param>
/// <param name="HiddenSize">The base encoder's hidden size.</param>
internal sealed record ModelManifest(LrcmtOptions Options, string BaseEncoderSha256, int HiddenSize)
{
    public const int CurrentFormat = 2;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        IgnoreReadOnlyProperties = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the manifest; a LoRA-tuned model's LoRA section is replaced by a pointer to <paramref name="adapterFolderName"/> (and the one setting PEFT's file cannot hold).</summary>
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
            ["hidden_size"] = HiddenSize,
            ["lora_adapter"] = lora ? adapterFolderName : null,
            ["options"] = options,
        };
        File.WriteAllText(path, manifest.ToJsonString(Json) + "\n");
    }

    /// <summary>Reads the manifest of the model folder holding <paramref name="path"/>, taking a LoRA configuration from its adapter folder.</summary>
    /// <exception cref="CorruptFileException">The file is not a manifest of a supported format.</exception>
    /// <exception cref="FileNotFoundException">A LoRA model's adapter configuration is missing.</exception>
    public static ModelManifest Read(string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new CorruptFileException(path, null, "an LRCMT model manifest must be a JSON object");
            return root["format"]?.GetValue<int>() switch
            {
                CurrentFormat => ReadCurrent(root, path),
                1 => ModelManifestFormat1.Read(root, path),
                var format => throw new CorruptFileException(path, null,
                    $"model format {format?.ToString() ?? "(none)"} is not one this release reads (1 or {CurrentFormat})"),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(path, null, $"not a valid LRCMT model manifest: {e.Message}", e);
        }
    }

    private static ModelManifest ReadCurrent(JsonObject root, string path)
    {
        var options = root["options"]?.Deserialize<LrcmtOptions>(Json) ?? throw new CorruptFileException(path, null, "the manifest lacks its options");
        string sha = Required(root, "base_encoder_sha256", path);
        int hidden = root["hidden_size"]?.GetValue<int>() ?? throw new CorruptFileException(path, null, "the manifest lacks hidden_size");
        if (options.TextEncoder?.Tuning == EncoderTuning.LoRA)
        {
            string adapter = Required(root, "lora_adapter", path);
            if (Path.IsPathRooted(adapter) || adapter.Split('/', '\\').Contains(".."))
                throw new CorruptFileException(path, null, $"lora_adapter must name a folder inside the model folder, not '{adapter}'");
            options = options with
            {
                LoRA = PeftAdapterFile.ReadConfig(Path.Combine(Path.GetDirectoryName(path)!, adapter)) with
                {
                    AllowDropoutOnSubstitutedLayers = options.LoRA?.AllowDropoutOnSubstitutedLayers ?? false,
                },
            };
        }
        return new ModelManifest(options, sha, hidden);
    }

    internal static string Required(JsonObject root, string key, string path) =>
        root[key]?.GetValue<string>() is { Length: > 0 } value ? value : throw new CorruptFileException(path, null, $"the manifest lacks {key}");

    /// <summary>The serializer settings of the options section (shared with the format-1 reader).</summary>
    internal static JsonSerializerOptions OptionsJson => Json;
}
