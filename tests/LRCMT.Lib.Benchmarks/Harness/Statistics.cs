namespace LRCMT.Benchmarks.Harness;

/// <summary>The summaries every benchmark prints, computed one way.</summary>
public static class Statistics
{
    /// <summary>The middle value after sorting (the upper of the two middle ones for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
