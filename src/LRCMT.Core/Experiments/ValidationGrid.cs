using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Experiments;

/// <summary>
/// Picks one setting from a grid (e.g. the encoder learning rate of full fine-tuning) by the mean, over seeds, of a
/// validation metric at each run's selected epoch: the test split plays no part in the choice.
/// </summary>
public static class ValidationGrid
{
    /// <summary>
    /// The index of the grid point with the best mean validation <paramref name="metric"/> (highest, or lowest for MAE;
    /// the first on a tie, where means within 1e-9 tie), and every point's mean.
    /// </summary>
    /// <param name="points">Per grid point, its seed runs (each with validation metrics).</param>
    /// <param name="metric">The MMSA metric to choose by.</param>
    /// <exception cref="InvalidInputException">No points, a point without runs, or a run without that validation metric.</exception>
    public static (int Index, IReadOnlyList<double> MeanValidation) Choose(IReadOnlyList<IReadOnlyList<SeedRun>> points, string metric)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentException.ThrowIfNullOrEmpty(metric);
        if (points.Count == 0) throw new InvalidInputException("validation grid", "it has no points to choose from.");
        var means = new double[points.Count];
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i].Count == 0) throw new InvalidInputException("validation grid", $"point {i} has no finished runs.");
            foreach (var run in points[i])
                if (run.Valid is null || !run.Valid.ContainsKey(metric))
                    throw new InvalidInputException("validation grid", $"point {i}, seed {run.Seed}: no validation '{metric}' to choose by.");
            means[i] = points[i].Average(r => r.Valid![metric]);
        }
        bool higher = MsaMetricNames.HigherIsBetter(metric);
        int best = 0;
        // Means within rounding error of each other are a tie (accuracies on one split are multiples of 1/n).
        const double tie = 1e-9;
        for (int i = 1; i < means.Length; i++)
            if (higher ? means[i] > means[best] + tie : means[i] < means[best] - tie) best = i;
        return (best, means);
    }
}
