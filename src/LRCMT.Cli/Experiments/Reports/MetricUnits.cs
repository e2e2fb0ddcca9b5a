using System.Globalization;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>
/// The one rule for how accuracies are shown. Files meant for programs (metrics.json, results.csv, ablation.json)
/// hold MMSA's own values: accuracies and F1 as fractions in [0, 1]. Everything meant for people (console tables,
/// progress lines, ablation.md, the training-curves PNG, the docs) shows accuracies and F1 as percentages, always
/// labelled with "%" (differences in "points"), and MAE and Corr as they are.
/// </summary>
internal static class MetricUnits
{
    /// <summary>Whether <paramref name="metric"/> is shown as a percentage (every accuracy and F1; not MAE, Corr or the loss).</summary>
    internal static bool IsPercentage(string metric) => metric is not ("MAE" or "Corr" or Training.TrainerOptions.LossMetric);

    /// <summary>100 for percentage metrics, else 1.</summary>
    internal static double Scale(string metric) => IsPercentage(metric) ? 100 : 1;

    /// <summary>The metric name with its display unit, e.g. <c>Has0_acc_2 (%)</c> or <c>MAE</c>.</summary>
    internal static string Label(string metric) => IsPercentage(metric) ? $"{metric} (%)" : metric;

    /// <summary>A value for people: <c>81.25</c> (percent) or <c>0.9246</c> (raw).</summary>
    internal static string Format(string metric, double value) => IsPercentage(metric)
        ? (100 * value).ToString("F2", CultureInfo.InvariantCulture)
        : value.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>A signed difference for people: <c>+14.75</c> (points) or <c>-0.1376</c> (raw).</summary>
    internal static string FormatDifference(string metric, double difference) => IsPercentage(metric)
        ? (100 * difference).ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture)
        : difference.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);

    /// <summary>The unit of a difference: "points" for percentages, empty for raw metrics.</summary>
    internal static string DifferenceUnit(string metric) => IsPercentage(metric) ? " points" : "";
}
