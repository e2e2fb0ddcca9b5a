using System.Globalization;
using System.Text;
using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>
/// ablation.md: the aggregate table (mean ± sample std, min–max per metric), the paired comparisons with both
/// intervals, one sentence per comparison that claims a difference only where the paired t interval over seeds
/// excludes 0 ("not shown at this budget" otherwise), and the full fine-tuning grid.
/// </summary>
internal static class AblationMarkdown
{
    /// <summary>Margin of the "LoRA is within ±1.5 points of full fine-tuning" check, as a fraction.</summary>
    internal const double EquivalenceMargin = 0.015;

    internal static void Save(string path, AblationSummary summary, IReadOnlyList<string> metrics) =>
        File.WriteAllText(path, Render(summary, metrics));

    internal static string Render(AblationSummary summary, IReadOnlyList<string> metrics)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"Ablation on {summary.Description}, {summary.Seeds.Count} seed(s) ({string.Join(", ", summary.Seeds)}), {summary.Epochs} epochs, test split. ")
            .AppendLine("Accuracies and F1 in %, MAE and Corr raw; each cell is mean ± sample standard deviation over seeds (n − 1), then min–max.")
            .AppendLine(summary.Interrupted ? "\nInterrupted: only the runs listed finished.\n" : "");
        if (summary.MergedFrom is { } sources)
            text.AppendLine($"Merged from {string.Join(", ", sources.Select(s => $"`{s}` ({Taken(summary, s)})"))}: ablations run in separate " +
                            "processes, each variant's runs taken from the folder(s) naming it, where they stay (ablation.json names each run's " +
                            "folder relative to this one).").AppendLine();

        text.Append("| Variant | Trainable | Seeds | ").AppendJoin(" | ", metrics.Select(MetricUnits.Label)).AppendLine(" |");
        text.Append("|---|---:|---:|").AppendJoin("", metrics.Select(_ => "---:|")).AppendLine();
        foreach (var v in summary.Variants.Where(v => v.Runs.Count > 0))
        {
            var byMetric = v.Summary.ToDictionary(s => s.Metric);
            text.Append(inv, $"| {v.Name} | {100 * v.TrainableShare:F2}% | {v.Runs.Count} | ")
                .AppendJoin(" | ", metrics.Select(m => Cell(m, byMetric[m])))
                .AppendLine(" |");
        }

        if (summary.Comparisons.Count > 0)
        {
            text.AppendLine().AppendLine("## Paired comparisons")
                .AppendLine()
                .AppendLine("Differences are candidate − baseline per seed (same data, initialisation and shuffling seed), in points for % metrics. " +
                            "**t 95% CI**: paired t over seeds — it sees the run-to-run variation, so the conclusion rests on it alone. " +
                            "**Bootstrap 95% CI**: paired bootstrap over test samples pooled across seeds (2,000 resamples) — test-sample noise only. " +
                            "**Better in**: seeds where the candidate is better (for MAE: lower).")
                .AppendLine()
                .AppendLine("| Comparison | Metric | Per-seed differences | Mean | t 95% CI | Bootstrap 95% CI | Better in | Conclusion |")
                .AppendLine("|---|---|---|---:|---|---|---:|---|");
            foreach (var c in summary.Comparisons)
            {
                text.Append(inv, $"| {c.Candidate} vs {c.Baseline} | {MetricUnits.Label(c.Metric)} | ")
                    .AppendJoin(", ", c.Differences.Select(d => MetricUnits.FormatDifference(c.Metric, d)))
                    .Append(inv, $" | {MetricUnits.FormatDifference(c.Metric, c.MeanDifference)} | {Interval(c.Metric, c.TInterval)} | {Interval(c.Metric, c.BootstrapInterval)} | ")
                    .Append(inv, $"{c.SeedsFavouringCandidate}/{c.Seeds.Count} | {Conclusion(c)} |").AppendLine();
            }

            text.AppendLine().AppendLine("What these runs show:").AppendLine();
            foreach (var c in summary.Comparisons.Where(c => c.Metric == metrics[0]))
                text.Append("- ").AppendLine(Claim(c));
        }

        if (summary.EncoderRates is { } grid)
        {
            text.AppendLine().AppendLine("## Full fine-tuning: encoder learning rate chosen on the validation split").AppendLine()
                .AppendLine($"| Encoder learning rate | Mean valid {MetricUnits.Label(grid.Metric)} | Seeds | Chosen |")
                .AppendLine("|---:|---:|---:|---|");
            for (int i = 0; i < grid.Rates.Count; i++)
                text.Append(inv, $"| {AblationRun.FormatRate(grid.Rates[i])} | {MetricUnits.Format(grid.Metric, grid.MeanValidation[i])} | {grid.SeedCounts[i]} | {(i == grid.Chosen ? "yes" : "")} |").AppendLine();
            text.AppendLine().AppendLine("The FullFineTuning rows above are the chosen rate's runs; the test split played no part in the choice.");
        }
        return text.ToString();
    }

    // The variants a merged ablation took runs of from one of its source folders.
    private static string Taken(AblationSummary summary, string source)
    {
        var names = summary.Variants.Where(v => v.Runs.Select((_, i) => v.RunFolder(i)).Any(f => f.StartsWith(source + "/", StringComparison.Ordinal)))
            .Select(v => v.Name).ToList();
        return names.Count > 0 ? string.Join(", ", names) : "no variant taken from it";
    }

    /// <summary>The sentence a comparison allows.</summary>
    internal static string Claim(PairedComparison c)
    {
        string name = MetricUnits.Label(c.Metric);
        string evidence = $"mean {MetricUnits.FormatDifference(c.Metric, c.MeanDifference)}{MetricUnits.DifferenceUnit(c.Metric)}, " +
                          $"t 95% CI {Interval(c.Metric, c.TInterval)}, better in {c.SeedsFavouringCandidate} of {c.Seeds.Count} seeds";
        string sentence = c.Conclusion switch
        {
            ComparisonConclusion.CandidateBetter => $"**{c.Candidate} beats {c.Baseline}** on {name} ({evidence}).",
            ComparisonConclusion.BaselineBetter => $"**{c.Baseline} beats {c.Candidate}** on {name} ({evidence}).",
            _ => $"{c.Candidate} vs {c.Baseline} on {name}: not shown at this budget ({evidence}{(c.TInterval is null ? "; one seed gives no interval" : "; the interval includes 0")}).",
        };
        if (c.Baseline == "FullFineTuning" && MetricUnits.IsPercentage(c.Metric))
        {
            sentence += c.TInterval is { } t && t.WithinMargin(EquivalenceMargin)
                ? $" Within ±{100 * EquivalenceMargin:F1} points of full fine-tuning: shown (the whole t interval lies inside)."
                : $" Within ±{100 * EquivalenceMargin:F1} points of full fine-tuning: not shown (the t interval does not lie inside ±{100 * EquivalenceMargin:F1}).";
        }
        return sentence;
    }

    private static string Cell(string metric, MetricSummary s) =>
        $"{MetricUnits.Format(metric, s.Mean)} ± {(s.StandardDeviation is { } sd ? MetricUnits.Format(metric, sd) : "–")} ({MetricUnits.Format(metric, s.Min)}–{MetricUnits.Format(metric, s.Max)})";

    private static string Interval(string metric, ConfidenceInterval? interval) => interval is null ? "–"
        : $"[{MetricUnits.FormatDifference(metric, interval.Lower)}, {MetricUnits.FormatDifference(metric, interval.Upper)}]";

    private static string Conclusion(PairedComparison c) => c.Conclusion switch
    {
        ComparisonConclusion.CandidateBetter => $"{c.Candidate} better",
        ComparisonConclusion.BaselineBetter => $"{c.Baseline} better",
        _ => "not shown at this budget",
    };
}
