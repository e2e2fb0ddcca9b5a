using System.Text.Json;
using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>
/// ablation.json: per variant its seed runs (test and validation metrics) and aggregates, then every paired comparison
/// with its per-seed differences and both intervals, then the full fine-tuning grid. Values are MMSA's fractions.
/// </summary>
internal static class AblationJson
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    internal static void Save(string path, AblationSummary summary) =>
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            units = "MMSA values: accuracies and F1 as fractions, MAE and Corr raw; differences are candidate - baseline",
            std = "sample standard deviation over seeds (n - 1 in the denominator); null with one seed",
            intervals = "t_interval: paired t over seeds (decides the conclusion); bootstrap_interval: paired bootstrap over test samples pooled across seeds",
            seeds = summary.Seeds,
            epochs = summary.Epochs,
            interrupted = summary.Interrupted,
            variants = summary.Variants.Select(v => new
            {
                name = v.Name,
                trainable_share = v.TrainableShare,
                runs = v.Runs.Select(r => new { seed = r.Seed, folder = $"{v.Folder}/{SeedsOption.FolderName(r.Seed)}", test = r.Test, valid = r.Valid }),
                aggregate = v.Summary.ToDictionary(s => s.Metric, s => new { n = s.Count, mean = s.Mean, std = s.StandardDeviation, min = s.Min, max = s.Max }),
            }),
            comparisons = summary.Comparisons.Select(c => new
            {
                candidate = c.Candidate,
                baseline = c.Baseline,
                metric = c.Metric,
                seeds = c.Seeds,
                differences = c.Differences,
                mean_difference = c.MeanDifference,
                t_interval = Interval(c.TInterval),
                bootstrap_interval = Interval(c.BootstrapInterval),
                seeds_favouring_candidate = c.SeedsFavouringCandidate,
                conclusion = c.Conclusion.ToString(),
            }),
            full_fine_tuning_encoder_learning_rate = summary.EncoderRates is { } grid ? new
            {
                chosen_by = $"mean validation {grid.Metric} over seeds",
                grid = grid.Rates.Select((rate, i) => new { encoder_learning_rate = rate, mean_valid = grid.MeanValidation[i], seeds = grid.SeedCounts[i] }),
                chosen = grid.Rates[grid.Chosen],
            } : null,
        }, Json));

    private static object? Interval(ConfidenceInterval? interval) =>
        interval is null ? null : new { lower = interval.Lower, upper = interval.Upper, level = interval.Level };
}
