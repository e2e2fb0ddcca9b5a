using LRCMT.Cli.Runs;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Training;

namespace LRCMT.Cli.Experiments;

/// <summary>Loads a saved run's model (pretrained encoder + the run's saved model) and evaluates one split.</summary>
internal static class EvaluationRun
{
    /// <param name="missing">Missing data applied to every batch (<c>eval --missing-rate</c>), or null.</param>
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context, int? batchSize = null,
        MissingModalities? missing = null)
    {
        using var restored = RestoredModel.Open(run, context, batchSize);
        return Evaluate(restored, split, missing);
    }

    /// <summary>The metrics of an opened model on one split, with <paramref name="missing"/> applied when given.</summary>
    internal static IReadOnlyDictionary<string, double> Evaluate(RestoredModel restored, string split, MissingModalities? missing)
    {
        var loader = restored.Loader(split);
        if (missing is not null) loader = loader.WithMissingModalities(missing);
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
