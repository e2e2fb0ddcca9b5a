using System.Globalization;
using System.Text;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>
/// results.csv, MMSA-like: a <c>Model</c> column and one column per MMSA metric; one row per variant × seed (the
/// <c>Seed</c> column holds the seed), then four aggregate rows per variant whose <c>Seed</c> column says
/// <c>mean</c>, <c>std</c> (sample standard deviation, n − 1; empty with one seed), <c>min</c> or <c>max</c>. Values are
/// MMSA's fractions, unrounded (MMSA's own CSV holds rounded percentages and np.std's default, with n in the denominator).
/// </summary>
internal static class ResultsCsv
{
    internal static void Save(string path, IReadOnlyList<VariantResult> variants)
    {
        var metrics = variants.SelectMany(v => v.Summary.Select(s => s.Metric)).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendJoin(",", ["Model", "Seed", .. metrics]).Append('\n');
        foreach (var variant in variants)
            foreach (var run in variant.Runs)
                Row(text, variant.Name, run.Seed.ToString(CultureInfo.InvariantCulture), metrics.Select(m => (double?)run.Test[m]));
        foreach (var variant in variants)
        {
            if (variant.Runs.Count == 0) continue;
            var byMetric = variant.Summary.ToDictionary(s => s.Metric);
            Row(text, variant.Name, "mean", metrics.Select(m => (double?)byMetric[m].Mean));
            Row(text, variant.Name, "std", metrics.Select(m => byMetric[m].StandardDeviation));
            Row(text, variant.Name, "min", metrics.Select(m => (double?)byMetric[m].Min));
            Row(text, variant.Name, "max", metrics.Select(m => (double?)byMetric[m].Max));
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>
    /// results-mmsa.csv, as MMSA's <c>run</c> writes its results: one row per model, a <c>Model</c> column, then one column
    /// per metric holding <c>(mean, std)</c> over the seeds, both ×100 and rounded to 2 decimals (MAE and Corr too, as
    /// MMSA does), with numpy's default std (ddof = 0, n in the denominator, smaller than results.csv's by √((n − 1)/n)).
    /// </summary>
    internal static void SaveMmsa(string path, IReadOnlyList<VariantResult> variants, IReadOnlyList<string> metrics)
    {
        var text = new StringBuilder();
        text.AppendJoin(",", ["Model", .. metrics]).Append('\n');
        foreach (var variant in variants.Where(v => v.Runs.Count > 0))
        {
            var cells = metrics.Select(m =>
            {
                var values = variant.Runs.Select(r => r.Test[m] * 100).ToList();
                double mean = values.Average();
                double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
                return $"\"({Round(mean)}, {Round(std)})\"";
            });
            text.AppendJoin(",", [variant.Name, .. cells]).Append('\n');
        }
        File.WriteAllText(path, text.ToString());
    }

    private static string Round(double value) => Math.Round(value, 2, MidpointRounding.ToEven).ToString("0.0#", CultureInfo.InvariantCulture);

    private static void Row(StringBuilder text, string model, string seed, IEnumerable<double?> values) =>
        text.AppendJoin(",", [model, seed, .. values.Select(v => v?.ToString("R", CultureInfo.InvariantCulture) ?? "")]).Append('\n');
}
