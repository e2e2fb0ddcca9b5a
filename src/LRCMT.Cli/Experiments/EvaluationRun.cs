using LRCMT.Cli.Runs;
using LRCMT.Errors;
using LRCMT.Training;

namespace LRCMT.Cli.Experiments;

/// <summary>Loads a saved run's model (pretrained encoder + the run's saved model) and evaluates one split.</summary>
internal static class EvaluationRun
{
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context, int? batchSize = null)
    {
        using var restored = RestoredModel.Open(run, context, batchSize);
        var loader = restored.Loader(split);
        try
        {
            return Trainer.Evaluate(restored.Model, loader, restored.Data.MetricSet).Values;
        }
        catch (InvalidConfigurationException e)
        {
            throw new CliException(ExitCodes.ConfigurationError, $"The run's classification head cannot be scored on this data: {e.Message}", e);
        }
    }
}
