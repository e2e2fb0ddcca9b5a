using LRCMT.Cli.Runs;
using LRCMT.Training;

namespace LRCMT.Cli.Experiments;

/// <summary>Rebuilds a saved run's model (pretrained encoder + the run's trainable weights) and evaluates one split.</summary>
internal static class EvaluationRun
{
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context, int? batchSize = null)
    {
        using var restored = RestoredModel.Open(run, context, batchSize);
        return Trainer.Evaluate(restored.Model, restored.Loader(split), restored.Data.MetricSet).Values;
    }
}
