using LRCMT.Errors;
using LRCMT.TextEncoders.Bert;
using LRCMT.Formats.Safetensors;
using LRCMT.Configuration;

namespace LRCMT.TextEncoders.Roberta;

/// <summary>Builds a <see cref="RobertaModel"/> from a Hugging Face checkpoint folder (<c>config.json</c> + <c>model.safetensors</c>).</summary>
internal static class RobertaCheckpointLoader
{
    public const string TaskModelPrefix = "roberta.";

    /// <returns>The model (eval mode) and the checkpoint keys skipped as not belonging to the encoder (<c>lm_head.*</c>, <c>classifier.*</c>).</returns>
    public static (RobertaModel Model, IReadOnlyList<string> Skipped) Load(string folder, BaseDType dtype = BaseDType.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        SettingRules.ThrowIf("base dtype", SettingRules.Defined("dtype", dtype));
        var config = RobertaConfig.FromFile(Path.Combine(folder, BertCheckpointLoader.ConfigFile));
        var weightsPath = Path.Combine(folder, BertCheckpointLoader.SafetensorsFileName);
        if (!File.Exists(weightsPath))
        {
            var pickle = Path.Combine(folder, BertCheckpointLoader.PickleFileName);
            if (File.Exists(pickle))
                throw new CorruptFileException(pickle, null, "PyTorch pickle checkpoints are not read; save the model with safe_serialization=True (model.safetensors).");
            throw new FileNotFoundException($"Checkpoint folder '{folder}' has no {BertCheckpointLoader.SafetensorsFileName}.", weightsPath);
        }

        return BertCheckpointLoader.LoadSafetensors(weightsPath, TaskModelPrefix,
            hasPooler => new RobertaModel(config with { AddPoolingLayer = hasPooler }, BaseLoading.Meta), dtype);
    }
}
