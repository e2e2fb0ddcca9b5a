using LRCMT.Experiments;
using Spectre.Console;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>The console tables of a multi-seed run: mean ± std per variant and metric, and the paired comparisons' claims.</summary>
internal static class SweepConsole
{
    internal static void Aggregates(IAnsiConsole console, string title, IReadOnlyList<VariantResult> variants, IReadOnlyList<string> metrics)
    {
        // Mean ± std for every metric; min–max for the headline (first) metric only, so the table fits a terminal.
        var table = new Table().Title(Markup.Escape(title + ", mean ± sample std over seeds")).AddColumn("Variant").AddColumn(new TableColumn("Seeds").RightAligned());
        foreach (var m in metrics) table.AddColumn(new TableColumn(Markup.Escape(MetricUnits.Label(m))).RightAligned());
        table.AddColumn(new TableColumn(Markup.Escape($"{metrics[0]} min-max")).RightAligned());
        foreach (var v in variants.Where(v => v.Runs.Count > 0))
        {
            var byMetric = v.Summary.ToDictionary(s => s.Metric);
            var head = byMetric[metrics[0]];
            table.AddRow([Markup.Escape(v.Name), v.Runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                .. metrics.Select(m => Markup.Escape(Cell(m, byMetric[m]))),
                Markup.Escape($"{MetricUnits.Format(metrics[0], head.Min)}-{MetricUnits.Format(metrics[0], head.Max)}")]);
        }
        console.Write(table);
    }

    internal static void Comparisons(IAnsiConsole console, IReadOnlyList<PairedComparison> comparisons, string metric)
    {
        foreach (var c in comparisons.Where(c => c.Metric == metric))
            console.MarkupLine(Markup.Escape(AblationMarkdown.Claim(c).Replace("**", "")));
    }

    private static string Cell(string metric, MetricSummary s) =>
        $"{MetricUnits.Format(metric, s.Mean)} ± {(s.StandardDeviation is { } sd ? MetricUnits.Format(metric, sd) : "-")}";
}
