using LRCMT.Evaluation;

namespace LRCMT.Training;

/// <summary>Everything about a run's position that is not a tensor: where it is, the loss so far, early stopping.</summary>
internal sealed class TrainerState
{
    /// <summary>Epoch in progress (0-based).</summary>
    public int Epoch { get; set; }

    /// <summary>Batches of <see cref="Epoch"/> already trained.</summary>
    public int BatchInEpoch { get; set; }

    /// <summary>Optimizer steps taken in total; the learning-rate schedule is a function of it.</summary>
    public long Step { get; set; }

    /// <summary>Sum and count of the training losses of <see cref="Epoch"/> so far (for the epoch mean).</summary>
    public double EpochLossSum { get; set; }

    /// <inheritdoc cref="EpochLossSum"/>
    public int EpochLossCount { get; set; }

    public int BestEpoch { get; set; } = -1;

    public double BestValue { get; set; } = double.NaN;

    public int EpochsWithoutImprovement { get; set; }

    public List<EpochSummary> History { get; set; } = [];

    /// <summary>Records an evaluated epoch; returns true when it is the best so far.</summary>
    public bool RecordEpoch(EpochSummary summary, string metric, bool higherIsBetter)
    {
        History.Add(summary);
        double value = metric == TrainerOptions.LossMetric ? summary.ValidationLoss : summary.Validation[metric];
        bool improved = BestEpoch < 0 || (higherIsBetter ? value > BestValue : value < BestValue);
        if (improved)
        {
            BestEpoch = summary.Epoch;
            BestValue = value;
            EpochsWithoutImprovement = 0;
        }
        else EpochsWithoutImprovement++;
        return improved;
    }

    public void StartNextEpoch()
    {
        Epoch++;
        BatchInEpoch = 0;
        EpochLossSum = 0;
        EpochLossCount = 0;
    }
}
