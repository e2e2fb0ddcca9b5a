namespace LRCMT.Experiments;

/// <summary>
/// The paired t confidence interval for the mean of per-seed differences: mean ± t(n − 1) · s / √n, with s the sample
/// standard deviation (n − 1 in the denominator). It treats each seed as one independent replication of the whole
/// experiment (data, initialisation, shuffling), so it covers the run-to-run variation that dominates here.
/// </summary>
public static class PairedTInterval
{
    /// <summary>The interval for the mean of <paramref name="differences"/>, or null for fewer than two values (no spread to estimate).</summary>
    /// <exception cref="ArgumentException">A difference is NaN or infinite.</exception>
    public static ConfidenceInterval? Compute(IReadOnlyList<double> differences, double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(differences);
        for (int i = 0; i < differences.Count; i++)
            if (!double.IsFinite(differences[i]))
                throw new ArgumentException($"differences[{i}] is {differences[i]}; a paired t interval needs finite values.", nameof(differences));
        int n = differences.Count;
        if (n < 2) return null;
        double mean = differences.Average();
        double sd = Descriptive.SampleStandardDeviation(differences);
        double half = StudentT.TwoSidedCritical(level, n - 1) * sd / Math.Sqrt(n);
        return new ConfidenceInterval(mean - half, mean + half, level);
    }
}
