namespace LRCMT.Experiments;

/// <summary>
/// Mean and standard deviation as used throughout the experiment reports. The standard deviation is the sample one
/// (n − 1 in the denominator, numpy's <c>ddof=1</c>); MMSA's own result files use <c>np.std</c>'s default (n), which is
/// smaller by a factor √((n − 1) / n).
/// </summary>
internal static class Descriptive
{
    /// <summary>The sample standard deviation of <paramref name="values"/> (n − 1 in the denominator).</summary>
    /// <exception cref="ArgumentException">Fewer than two values.</exception>
    public static double SampleStandardDeviation(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2)
            throw new ArgumentException($"A sample standard deviation needs at least 2 values, got {values.Count}.", nameof(values));
        double mean = values.Average();
        double squares = 0;
        foreach (double v in values) squares += (v - mean) * (v - mean);
        return Math.Sqrt(squares / (values.Count - 1));
    }
}
