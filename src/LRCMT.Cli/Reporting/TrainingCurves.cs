namespace LRCMT.Cli.Reporting;

/// <summary>Per-epoch training loss and validation metric, as collected during a run.</summary>
internal sealed class TrainingCurves
{
    private readonly List<EpochPoint> _points = [];

    /// <summary>One epoch's numbers.</summary>
    internal sealed record EpochPoint(int Epoch, double TrainLoss, double ValidLoss, double ValidMetric);

    /// <summary>Creates empty curves that will track <paramref name="validMetricName"/> for the run called <paramref name="run"/>.</summary>
    internal TrainingCurves(string validMetricName, string run)
    {
        ValidMetricName = validMetricName;
        Run = run;
    }

    /// <summary>Which run the curves belong to, as the plot's title names it: the variant and the seed ("Lrcmt, seed 1").</summary>
    internal string Run { get; }

    /// <summary>Name of the validation metric (an MMSA name).</summary>
    internal string ValidMetricName { get; }

    /// <summary>The epochs recorded so far, in order.</summary>
    internal IReadOnlyList<EpochPoint> Points => _points;

    /// <summary>The epoch (from 1) whose weights the run kept, or null when none was selected.</summary>
    internal int? BestEpoch { get; set; }

    /// <summary>The test split's value of <see cref="ValidMetricName"/> for the kept weights, or null (interrupted).</summary>
    internal double? TestMetric { get; set; }

    /// <summary>Records one epoch.</summary>
    internal void Add(EpochPoint point) => _points.Add(point);
}
