using System.Text.Json;
using System.Text.Json.Nodes;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;

namespace LRCMT.Models.Persistence;

/// <summary>
/// Converts a format 1 <c>lrcmt_config.json</c> (written before the description was one record) into the current
/// description: <c>architecture</c> (feature sizes, fusion, interaction, head, kernels), <c>tuning</c>, <c>lora</c>
/// and <c>base_encoder</c> (source and weights hash). Format 1 did not record the base dtype: those models were
/// reloaded on a float32 base, and still are. Values it omitted take the defaults of that release, which are the
/// paper's (<see cref="LrcmtPresets.Paper"/>), not today's.
/// </summary>
internal static class ModelManifestFormat1
{
    public static ModelManifest Read(JsonObject root, string path)
    {
        var json = ModelManifest.OptionsJson;
        var architecture = root["architecture"] as JsonObject ?? throw new CorruptFileException(path, null, "the manifest lacks its architecture");
        var reference = root["base_encoder"] as JsonObject ?? throw new CorruptFileException(path, null, "the manifest lacks its base-encoder record");
        var tuning = root["tuning"]?.Deserialize<EncoderTuning>(json) ?? throw new CorruptFileException(path, null, "the manifest lacks its tuning");
        var lora = root["lora"]?.Deserialize<LoRAConfig>(json);
        if (tuning == EncoderTuning.LoRA && lora is null)
            throw new CorruptFileException(path, null, "the model is LoRA-tuned but the manifest has no LoRA configuration");

        var then = LrcmtPresets.Paper;
        int Int(string key, int fallback) => architecture[key]?.GetValue<int>() ?? fallback;
        var options = then with
        {
            TextEncoder = then.TextEncoder with
            {
                PretrainedFolder = reference["PretrainedFolder"]?.GetValue<string>(),
                OnnxFile = reference["OnnxFile"]?.GetValue<string>(),
                Tuning = tuning,
            },
            LoRA = lora ?? then.LoRA,
            Modalities = new ModalityOptions
            {
                AcousticFeatures = Int("AcousticFeatures", then.Modalities.AcousticFeatures),
                VisualFeatures = Int("VisualFeatures", then.Modalities.VisualFeatures),
                TextKernelSize = Int("TextKernelSize", then.Modalities.TextKernelSize),
                AcousticKernelSize = Int("AcousticKernelSize", then.Modalities.AcousticKernelSize),
                VisualKernelSize = Int("VisualKernelSize", then.Modalities.VisualKernelSize),
            },
            Fusion = Fusion(architecture["Fusion"] as JsonObject, then.Fusion, json),
            Interaction = new InteractionOptions
            {
                Mode = architecture["Interaction"]?.Deserialize<InteractionMode>(json) ?? then.Interaction.Mode,
                TextAttendedByMemory = architecture["TextAttendedByMemory"]?.GetValue<bool>() ?? then.Interaction.TextAttendedByMemory,
            },
            Head = new HeadOptions
            {
                Kind = architecture["Head"]?.Deserialize<HeadKind>(json) ?? then.Head.Kind,
                Classes = Int("Classes", then.Head.Classes),
                Dropout = architecture["OutputDropout"]?.GetValue<double>() ?? then.Head.Dropout,
            },
        };
        string sha = ModelManifest.Required(reference, "WeightsSha256", path);
        int hidden = root["hidden_size"]?.GetValue<int>() ?? throw new CorruptFileException(path, null, "the manifest lacks hidden_size");
        return new ModelManifest(options, sha, hidden);
    }

    /// <summary>The saved fusion settings over that release's defaults (a setting it did not write, e.g. one added later, keeps its old default).</summary>
    private static CrossModalSettings Fusion(JsonObject? saved, CrossModalSettings defaults, JsonSerializerOptions json)
    {
        var merged = JsonSerializer.SerializeToNode(defaults, json)!.AsObject();
        foreach (var (key, value) in saved ?? []) merged[key] = value?.DeepClone();
        return merged.Deserialize<CrossModalSettings>(json)!;
    }
}
