using LRCMT.Evaluation;
using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments;

/// <summary>What a training run produced.</summary>
/// <param name="TestMetrics">MMSA metrics on the test split, or null when the run was interrupted before testing.</param>
/// <param name="ValidMetrics">MMSA metrics on the validation split at the selected epoch, or null.</param>
/// <param name="ParameterReport">PEFT-style "trainable params: … || all params: … || trainable%: …".</param>
/// <param name="TrainableShare">Trainable parameters / all parameters.</param>
/// <param name="CompletedEpochs">Epochs that ran to the end.</param>
/// <param name="Interrupted">Whether Ctrl+C stopped training early.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Dataset">The metric set the data follows.</param>
/// <param name="TestPredictions">Per-sample test predictions (null when interrupted), for paired comparisons.</param>
internal sealed record TrainingOutcome(
    IReadOnlyDictionary<string, double>? TestMetrics,
    IReadOnlyDictionary<string, double>? ValidMetrics,
    string ParameterReport,
    double TrainableShare,
    int CompletedEpochs,
    bool Interrupted,
    TimeSpan Elapsed,
    long Seed,
    MsaDataset Dataset,
    SamplePredictions? TestPredictions)
{
    /// <summary>This run as a library <see cref="SeedRun"/> (null when it was interrupted before testing).</summary>
    internal SeedRun? ToSeedRun() =>
        TestMetrics is null ? null : new SeedRun((int)Seed, TestMetrics, ValidMetrics, TestPredictions);
}
