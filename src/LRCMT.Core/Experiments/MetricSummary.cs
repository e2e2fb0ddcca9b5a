using LRCMT.Errors;

namespace LRCMT.Experiments;

/// <summary>
/// One metric over several seeds: mean, sample standard deviation (n − 1; null for a single seed), minimum and
/// maximum, in the metric's own unit (MMSA's fractions for accuracies and F1).
/// </summary>
public sealed class MetricSummary
{
    private MetricSummary(string metric, IReadOnlyList<double> values)
    {
        Metric = metric;
        Values = values;
        Mean = values.Average();
        StandardDeviation = values.Count >= 2 ? Descriptive.SampleStandardDeviation(values) : null;
        Min = values.Min();
        Max = values.Max();
    }

    /// <summary>The metric's MMSA name.</summary>
    public string Metric { get; }

    /// <summary>The per-seed values, in seed order.</summary>
    public IReadOnlyList<double> Values { get; }

    /// <summary>Number of seeds.</summary>
    public int Count => Values.Count;

    /// <summary>Mean over seeds.</summary>
    public double Mean { get; }

    /// <summary>Sample standard deviation over seeds (n − 1 in the denominator), or null with one seed.</summary>
    public double? StandardDeviation { get; }

    /// <summary>Smallest value.</summary>
    public double Min { get; }

    /// <summary>Largest value.</summary>
    public double Max { get; }

    /// <summary>Max − min: the spread the reproducibility target is stated in.</summary>
    public double Spread => Max - Min;

    /// <summary>Summarises <paramref name="values"/> of <paramref name="metric"/>.</summary>
    /// <exception cref="InvalidInputException">No values, or a NaN/infinite value.</exception>
    public static MetricSummary Of(string metric, IReadOnlyList<double> values)
    {
        ArgumentException.ThrowIfNullOrEmpty(metric);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new InvalidInputException($"metric '{metric}'", "there are no values to summarise (0 seeds).");
        for (int i = 0; i < values.Count; i++)
            if (!double.IsFinite(values[i]))
                throw new InvalidInputException($"metric '{metric}'", $"value {i} is {values[i]}; only finite values can be summarised.");
        return new MetricSummary(metric, values.ToArray());
    }

    /// <summary>
    /// One summary per metric of <paramref name="runs"/> (one metrics dictionary per seed), in the first run's metric order.
    /// </summary>
    /// <exception cref="InvalidInputException">No runs, or runs that do not report the same metrics.</exception>
    public static IReadOnlyList<MetricSummary> OfRuns(IReadOnlyList<IReadOnlyDictionary<string, double>> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0) throw new InvalidInputException("seed runs", "there are none to summarise.");
        var names = runs[0].Keys.ToList();
        for (int i = 1; i < runs.Count; i++)
        {
            var missing = names.Where(n => !runs[i].ContainsKey(n)).ToList();
            var extra = runs[i].Keys.Where(k => !names.Contains(k)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new InvalidInputException("seed runs",
                    $"run {i} reports other metrics than run 0 (missing: [{string.Join(", ", missing)}], unexpected: [{string.Join(", ", extra)}]).");
        }
        return names.Select(n => Of(n, runs.Select(r => r[n]).ToArray())).ToList();
    }
}
