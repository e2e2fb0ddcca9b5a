namespace LRCMT.Cli.Experiments;

/// <summary>What a training run produced.</summary>
/// <param name="TestMetrics">MMSA metrics on the test split, or null when the run was interrupted before testing.</param>
/// <param name="ValidMetrics">MMSA metrics on the validation split at the selected epoch, or null.</param>
/// <param name="ParameterReport">PEFT-style "trainable params: … || all params: … || trainable%: …".</param>
/// <param name="TrainableShare">Trainable parameters / all parameters.</param>
/// <param name="CompletedEpochs">Epochs that ran to the end.</param>
/// <param name="Interrupted">Whether Ctrl+C stopped training early.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
internal sealed record TrainingOutcome(
    IReadOnlyDictionary<string, double>? TestMetrics,
    IReadOnlyDictionary<string, double>? ValidMetrics,
    string ParameterReport,
    double TrainableShare,
    int CompletedEpochs,
    bool Interrupted,
    TimeSpan Elapsed);

/// <summary>One row of ablation.json.</summary>
/// <param name="Name">Variant name.</param>
/// <param name="TrainableShare">Trainable parameters / all parameters.</param>
/// <param name="Metrics">MMSA test metrics.</param>
internal sealed record AblationRow(string Name, double TrainableShare, IReadOnlyDictionary<string, double> Metrics);
