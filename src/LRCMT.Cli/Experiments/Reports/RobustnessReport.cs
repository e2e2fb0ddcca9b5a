using System.Globalization;
using System.Text;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Experiments;
using ScottPlot;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>One trained run evaluated on its test split with a share of the data missing.</summary>
internal sealed record RobustnessResult(string Variant, int Seed, MissingModalities Missing, IReadOnlyDictionary<string, double> Test);

/// <summary>
/// What <c>ablate --missing-rates</c> writes: robustness.csv (one row per variant × seed × rate, MMSA's fractions),
/// robustness.md (per variant and rate: mean ± sample std over seeds, in the units people read) and
/// robustness-&lt;variant&gt;.png (the headline metric against the rate, ± one sample std over seeds). <see cref="Read"/>
/// reads robustness.csv back, for <c>ablate --merge</c>.
/// </summary>
internal static class RobustnessReport
{
    private const string CsvFile = "robustness.csv";
    private static readonly string[] KeyColumns = ["Model", "Seed", "MissingRate", "Mode", "MaskSeed"];

    internal static void Save(string folder, IReadOnlyList<RobustnessResult> results, IReadOnlyList<string> columns)
    {
        if (results.Count == 0) return;
        var csv = new StringBuilder();
        csv.AppendJoin(",", [.. KeyColumns, .. columns]).Append('\n');
        foreach (var r in results)
            csv.AppendJoin(",", [r.Variant, Text(r.Seed), Text(r.Missing.Rate), Mode(r.Missing), Text(r.Missing.Seed),
                .. columns.Select(c => r.Test.TryGetValue(c, out double v) ? v.ToString("R", CultureInfo.InvariantCulture) : "")]).Append('\n');
        File.WriteAllText(Path.Combine(folder, CsvFile), csv.ToString());

        var md = new StringBuilder();
        var first = results[0].Missing;
        md.Append("## Robustness to missing data\n\n")
          .Append(first.WholeModalities
              ? "Each acoustic and visual stream of each test sample dropped whole with the given probability"
              : "The given share of each test sample's acoustic and visual frames masked out")
          .Append($" (mask seed {Text(first.Seed)}: the same masks for every variant and seed; the text is complete). ")
          .Append("Each cell: mean ± sample std (n − 1) over the seeds that finished.\n\n");
        md.Append("| Variant | Missing rate | Seeds | ").AppendJoin(" | ", columns.Select(MetricUnits.Label)).Append(" |\n");
        md.Append("|---|---:|---:|").AppendJoin("", columns.Select(_ => "---:|")).Append('\n');
        foreach (var (variant, rate, runs) in Groups(results))
        {
            md.Append($"| {variant} | {Text(rate)} | {runs.Count} | ");
            md.AppendJoin(" | ", columns.Select(c =>
            {
                var values = runs.Where(r => r.Test.ContainsKey(c)).Select(r => r.Test[c]).ToList();
                if (values.Count == 0) return "";
                var s = MetricSummary.Of(c, values);
                return s.StandardDeviation is { } sd ? $"{MetricUnits.Format(c, s.Mean)} ± {MetricUnits.Format(c, sd)}" : MetricUnits.Format(c, s.Mean);
            }));
            md.Append(" |\n");
        }
        File.WriteAllText(Path.Combine(folder, "robustness.md"), md.ToString());

        foreach (var variant in results.Select(r => r.Variant).Distinct())
            Plot(Path.Combine(folder, $"robustness-{variant}.png"), variant, Groups(results).Where(g => g.Variant == variant).ToList(), columns[0], first.WholeModalities);
    }

    /// <summary>The rows of <paramref name="folder"/>'s robustness.csv (none when the ablation scored no missing data).</summary>
    /// <exception cref="CliException">The file cannot be read or is not what <see cref="Save"/> writes (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static IReadOnlyList<RobustnessResult> Read(string folder)
    {
        string path = Path.Combine(folder, CsvFile);
        if (!File.Exists(path)) return [];
        try
        {
            var lines = IO.InputFile.ReadAllText(path, IO.InputKind.RunSettings).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var header = lines.Length > 0 ? lines[0].TrimEnd('\r').Split(',') : [];
            if (header.Length <= KeyColumns.Length || !header.Take(KeyColumns.Length).SequenceEqual(KeyColumns))
                throw new FormatException($"expected the columns {string.Join(",", KeyColumns)} and the metrics, got '{(lines.Length > 0 ? lines[0] : "")}'.");
            var results = new List<RobustnessResult>();
            for (int i = 1; i < lines.Length; i++)
            {
                var cells = lines[i].TrimEnd('\r').Split(',');
                if (cells.Length != header.Length) throw new FormatException($"line {i + 1} has {cells.Length} cells, the header {header.Length}.");
                bool whole = cells[3] switch
                {
                    "whole-modalities" => true,
                    "frames" => false,
                    _ => throw new FormatException($"line {i + 1}: the mode '{cells[3]}' is neither frames nor whole-modalities."),
                };
                var test = new Dictionary<string, double>();
                for (int c = KeyColumns.Length; c < header.Length; c++)
                    if (cells[c].Length > 0) test[header[c]] = Number(cells[c], i);
                results.Add(new RobustnessResult(cells[0], (int)Number(cells[1], i),
                    new MissingModalities { Rate = Number(cells[2], i), WholeModalities = whole, Seed = (int)Number(cells[4], i) }, test));
            }
            return results;
        }
        catch (Exception e) when (e is FormatException or OverflowException or LrcmtException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.RunError, $"The robustness table '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static double Number(string text, int line) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value
            : throw new FormatException($"line {line + 1}: '{text}' is not a finite number.");

    private static void Plot(string path, string variant, List<(string Variant, double Rate, List<RobustnessResult> Runs)> groups, string metric, bool whole)
    {
        var plot = new Plot();
        double[] rates = groups.Select(g => g.Rate).ToArray();
        var summaries = groups.Select(g => MetricSummary.Of(metric, g.Runs.Select(r => r.Test[metric]).ToList())).ToList();
        double scale = MetricUnits.Scale(metric);
        double[] means = summaries.Select(s => s.Mean * scale).ToArray();
        double[] errors = summaries.Select(s => (s.StandardDeviation ?? 0) * scale).ToArray();
        var line = plot.Add.Scatter(rates, means);
        line.MarkerSize = 7;
        line.LegendText = $"test {MetricUnits.Label(metric)}, mean ± std over seeds";
        var bars = plot.Add.ErrorBar(rates, means, errors);
        bars.Color = line.Color;
        plot.Title($"{variant}: {metric} with missing data");
        plot.XLabel(whole ? "probability a stream is dropped" : "share of acoustic/visual frames missing");
        plot.YLabel(MetricUnits.Label(metric));
        if (MetricUnits.IsPercentage(metric)) plot.Axes.SetLimitsY(0, 100);
        plot.Axes.SetLimitsX(-0.05, Math.Max(1, rates.Max()) + 0.05);
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 700, 450);
    }

    private static List<(string Variant, double Rate, List<RobustnessResult> Runs)> Groups(IReadOnlyList<RobustnessResult> results) =>
        results.GroupBy(r => (r.Variant, r.Missing.Rate))
            .Select(g => (g.Key.Variant, g.Key.Rate, g.ToList()))
            .ToList();

    private static string Mode(MissingModalities m) => m.WholeModalities ? "whole-modalities" : "frames";

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
