using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Runs;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>Rebuilds a saved run's model (pretrained encoder + the run's trainable weights) and evaluates one split.</summary>
internal static class EvaluationRun
{
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context)
    {
        var settings = run.Settings;
        var data = ExperimentData.Load(settings.Data);
        context.Console.MarkupLine($"Data: {Markup.Escape(data.Description)}");
        var encoder = EncoderLoader.Load(settings.Encoder);
        using var model = ModelFactory.Build(settings, encoder, data);

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        var weights = SafetensorsFile.Load(run.TrainableWeights);
        try
        {
            // The file holds exactly what trained; everything else comes from the pretrained encoder.
            StateDictLoader.Load(model, weights, run.TrainableWeights, new StateDictLoadOptions(key => !trainable.Contains(key), _ => false));
        }
        catch (CheckpointMismatchException e)
        {
            throw new CliException(ExitCodes.RunError,
                $"The run's weights do not fit the model rebuilt for this data (are the feature sizes the same as in training?): {e.Message}", e);
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }

        var collator = new MultimodalCollator(encoder.Tokenizer, settings.Data.MaxTextTokens, encoder.Tokenizer.PaddingTokenId);
        var loader = new MultimodalDataLoader(data.Split(split), collator, settings.Data.BatchSize * 2, shuffle: false, seed: 0);
        return Trainer.Evaluate(model, loader, data.MetricSet).Values;
    }
}
