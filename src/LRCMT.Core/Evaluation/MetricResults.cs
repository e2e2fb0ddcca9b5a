namespace LRCMT.Evaluation;

/// <summary>
/// The metrics of one evaluation, keyed by MMSA's names (<see cref="MsaMetricNames"/>), unrounded.
/// A value that is mathematically undefined for the inputs (e.g. <c>Corr</c> of constant predictions) is
/// reported as 0 and named in <see cref="Undefined"/> with the reason, so no NaN ever appears.
/// </summary>
public sealed class MetricResults
{
    internal MetricResults(IReadOnlyDictionary<string, double> values, IReadOnlyDictionary<string, string> undefined)
    {
        Values = values;
        Undefined = undefined;
    }

    /// <summary>Metric name → value, in MMSA's order.</summary>
    public IReadOnlyDictionary<string, double> Values { get; }

    /// <summary>Metrics that were undefined for these inputs (reported as 0) → why.</summary>
    public IReadOnlyDictionary<string, string> Undefined { get; }

    /// <summary>The value of <paramref name="metric"/>; throws <see cref="KeyNotFoundException"/> naming the known metrics otherwise.</summary>
    public double this[string metric] => Values.TryGetValue(metric, out var v)
        ? v
        : throw new KeyNotFoundException($"No metric '{metric}'; this evaluation has: {string.Join(", ", Values.Keys)}.");

    /// <summary>One line such as <c>Has0_acc_2: 0.8250  MAE: 0.6684</c> (4 decimals, as MMSA logs them).</summary>
    public override string ToString() =>
        string.Join("  ", Values.Select(kv => $"{kv.Key}: {kv.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}"));
}
