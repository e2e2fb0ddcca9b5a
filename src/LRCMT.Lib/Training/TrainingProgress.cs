using LRCMT.Evaluation;

namespace LRCMT.Training;

/// <summary>What a <see cref="TrainingProgress"/> event reports.</summary>
public enum TrainingEvent
{
    /// <summary>One optimizer step finished; <see cref="TrainingProgress.Loss"/> is its training loss.</summary>
    StepCompleted,

    /// <summary>An epoch finished and was evaluated; <see cref="TrainingProgress.Validation"/> holds the metrics.</summary>
    EpochCompleted,

    /// <summary>A checkpoint was written to <see cref="TrainingProgress.CheckpointPath"/>.</summary>
    CheckpointSaved,
}

/// <summary>A progress report from <see cref="Trainer"/>, raised on the training thread.</summary>
/// <param name="Event">What happened.</param>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="Step">Optimizer steps completed so far (all epochs).</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Loss">Training loss of the step, or mean training loss of the epoch.</param>
/// <param name="LearningRates">The current learning rate of every optimizer group of the run (adapter, encoder, other: those present).</param>
/// <param name="Validation">Validation metrics (epoch events only).</param>
/// <param name="ValidationLoss">Validation loss (epoch events only).</param>
/// <param name="CheckpointPath">The checkpoint written (checkpoint events only).</param>
public sealed record TrainingProgress(
    TrainingEvent Event,
    int Epoch,
    long Step,
    long TotalSteps,
    double Loss,
    IReadOnlyDictionary<ParameterGroup, double> LearningRates,
    MetricResults? Validation = null,
    double? ValidationLoss = null,
    string? CheckpointPath = null);
