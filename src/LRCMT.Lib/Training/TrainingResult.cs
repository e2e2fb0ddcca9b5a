using LRCMT.Evaluation;

namespace LRCMT.Training;

/// <summary>Why training ended.</summary>
public enum TrainingStopReason
{
    /// <summary>Every epoch ran.</summary>
    Completed,

    /// <summary>The validation metric did not improve for <see cref="TrainerOptions.Patience"/> epochs.</summary>
    EarlyStopped,

    /// <summary>The cancellation token fired; training stopped after the step in progress.</summary>
    Cancelled,
}

/// <summary>One evaluated epoch.</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="TrainLoss">Mean training loss over the epoch's steps.</param>
/// <param name="ValidationLoss">Loss on the validation set.</param>
/// <param name="Validation">Validation metrics.</param>
public sealed record EpochSummary(int Epoch, double TrainLoss, double ValidationLoss, MetricResults Validation);

/// <summary>The outcome of <see cref="Trainer.Fit"/>.</summary>
/// <param name="StopReason">Why training ended.</param>
/// <param name="EpochsCompleted">Epochs that ran to their end.</param>
/// <param name="Steps">Optimizer steps taken in total (including those of resumed runs).</param>
/// <param name="BestEpoch">Epoch with the best validation metric, or -1 when none was evaluated.</param>
/// <param name="BestValue">That epoch's value of <see cref="TrainerOptions.EarlyStoppingMetric"/>.</param>
/// <param name="History">Every evaluated epoch, resumed runs included.</param>
public sealed record TrainingResult(
    TrainingStopReason StopReason,
    int EpochsCompleted,
    long Steps,
    int BestEpoch,
    double BestValue,
    IReadOnlyList<EpochSummary> History);
