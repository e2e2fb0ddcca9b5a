using System.Text.Json;
using System.Text.Json.Serialization;
using LRCMT.Errors;
using LRCMT.LowRank;

namespace LRCMT.Models.Persistence;

/// <summary>
/// <c>lrcmt_config.json</c>: what a saved model is, as it was actually built (feature sizes, effective LoRA targets),
/// and the base encoder it needs.
/// </summary>
internal sealed record ModelManifest(
    [property: JsonPropertyName("format")] int Format,
    [property: JsonPropertyName("architecture")] LrcmtArchitecture Architecture,
    [property: JsonPropertyName("tuning")] EncoderTuning Tuning,
    [property: JsonPropertyName("lora")] LoRAConfig? LoRA,
    [property: JsonPropertyName("base_encoder")] TextEncoderReference BaseEncoder,
    [property: JsonPropertyName("hidden_size")] int HiddenSize)
{
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        IgnoreReadOnlyProperties = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <exception cref="CorruptFileException">The file is not a manifest of a supported format.</exception>
    public static ModelManifest Read(string path)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, null, $"not a valid LRCMT model manifest: {e.Message}", e);
        }
        if (manifest is null || manifest.Architecture is null || manifest.BaseEncoder is null || string.IsNullOrEmpty(manifest.BaseEncoder.WeightsSha256))
            throw new CorruptFileException(path, null, "the manifest lacks its architecture or base-encoder record");
        if (manifest.Format != CurrentFormat)
            throw new CorruptFileException(path, null, $"model format {manifest.Format} is not the supported {CurrentFormat}");
        if (manifest.Tuning == EncoderTuning.LoRA && manifest.LoRA is null)
            throw new CorruptFileException(path, null, "the model is LoRA-tuned but the manifest has no LoRA configuration");
        return manifest;
    }
}
