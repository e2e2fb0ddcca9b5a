using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Runs;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Models;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Reads a run folder written by an earlier release (config.json + trainable.safetensors, no model/ folder): the model
/// is rebuilt from the settings with the data's feature sizes and the trainable weights are loaded by name and shape.
/// </summary>
internal static class LegacyRun
{
    internal static SentimentModel Load(SavedRun run, EncoderLoader.LoadedEncoder encoder, ExperimentData data)
    {
        string weightsPath = run.LegacyTrainableWeights!;
        var settings = run.Settings;
        SentimentModel model;
        try
        {
            model = ModelFactory.Build(settings, encoder, data);
        }
        catch (InvalidConfigurationException e)
        {
            throw new CliException(ExitCodes.RunError,
                $"The run folder '{run.Folder}' was written by an earlier release of lrcmt and its config.json no longer describes a valid model: {e.Message}", e);
        }
        try
        {
            var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
            var weights = SafetensorsFile.Load(weightsPath);
            try
            {
                // The file holds exactly what trained; everything else comes from the pretrained encoder.
                StateDictLoader.Load(model, weights, weightsPath, new StateDictLoadOptions(key => !trainable.Contains(key), _ => false));
            }
            finally
            {
                foreach (var tensor in weights.Values) tensor.Dispose();
            }
            return model;
        }
        catch (Exception e) when (e is CheckpointMismatchException or CorruptFileException)
        {
            model.Dispose();
            throw new CliException(ExitCodes.RunError,
                $"The run folder '{run.Folder}' was written by an earlier release of lrcmt (trainable.safetensors, no {RunFiles.Model}/ folder) " +
                $"and its weights do not fit the model rebuilt from its config.json for this data and encoder: {e.Message} " +
                "Retrain it with this release (lrcmt train -c config.json) to get a self-describing model folder.", e);
        }
    }
}
