using System.Text.Json;
using LRCMT.Errors;
using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>
/// ablation.json: per variant its seed runs (test and validation metrics) and aggregates, then every paired comparison
/// with its per-seed differences and both intervals, then the full fine-tuning grid. Values are MMSA's fractions.
/// Run folders are relative to the ablation folder (a merged ablation's point into the folders it was merged from,
/// which <c>merged_from</c> lists). <see cref="Read"/> reads back what <c>ablate --merge</c> needs.
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
            merged_from = summary.MergedFrom,
            variants = summary.Variants.Select(v => new
            {
                name = v.Name,
                trainable_share = v.TrainableShare,
                runs = v.Runs.Select((r, i) => new { seed = r.Seed, folder = v.RunFolder(i), test = r.Test, valid = r.Valid }),
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

    /// <summary>One run an ablation.json lists: its seed, its folder (relative to the ablation folder) and its metrics.</summary>
    internal sealed record ListedRun(string Folder, SeedRun Run);

    /// <summary>One variant an ablation.json lists, with the runs that finished.</summary>
    internal sealed record SavedVariant(string Name, double TrainableShare, IReadOnlyList<ListedRun> Runs);

    /// <summary>What <c>ablate --merge</c> reads back from an ablation.json.</summary>
    internal sealed record SavedAblation(IReadOnlyList<int> Seeds, int Epochs, bool Interrupted, IReadOnlyList<SavedVariant> Variants, EncoderRateChoice? EncoderRates);

    /// <summary>
    /// Reads what <see cref="Save"/> wrote (through the bounded reader of run records): the seeds, epochs, whether the
    /// ablation was interrupted, each variant's runs (test and validation metrics, no predictions), and the grid, whose
    /// metric (<paramref name="gridMetric"/>) follows from the ablation's settings.
    /// </summary>
    /// <exception cref="CliException">The file is missing, unreadable or not an ablation record (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static SavedAblation Read(string path, string gridMetric)
    {
        try
        {
            using var document = JsonDocument.Parse(IO.InputFile.ReadAllText(path, IO.InputKind.RunSettings));
            var root = document.RootElement;
            var variants = root.GetProperty("variants").EnumerateArray().Select(v => new SavedVariant(
                v.GetProperty("name").GetString()!,
                v.GetProperty("trainable_share").GetDouble(),
                v.GetProperty("runs").EnumerateArray().Select(r => new ListedRun(
                    r.GetProperty("folder").GetString()!,
                    new SeedRun(r.GetProperty("seed").GetInt32(), Metrics(r.GetProperty("test"))!, Metrics(r.GetProperty("valid"))))).ToList())).ToList();
            EncoderRateChoice? grid = null;
            if (root.TryGetProperty("full_fine_tuning_encoder_learning_rate", out var g) && g.ValueKind == JsonValueKind.Object)
            {
                var rows = g.GetProperty("grid").EnumerateArray().ToList();
                var rates = rows.Select(r => r.GetProperty("encoder_learning_rate").GetDouble()).ToList();
                int chosen = rates.IndexOf(g.GetProperty("chosen").GetDouble());
                if (chosen < 0) throw new FormatException("the chosen encoder learning rate is not one of the grid's.");
                grid = new EncoderRateChoice(gridMetric, rates, rows.Select(r => r.GetProperty("mean_valid").GetDouble()).ToList(),
                    rows.Select(r => r.GetProperty("seeds").GetInt32()).ToList(), chosen);
            }
            return new SavedAblation(root.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()).ToList(), root.GetProperty("epochs").GetInt32(),
                root.GetProperty("interrupted").GetBoolean(), variants, grid);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException
                                        or LrcmtException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.RunError, $"The ablation record '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static Dictionary<string, double>? Metrics(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    private static object? Interval(ConfidenceInterval? interval) =>
        interval is null ? null : new { lower = interval.Lower, upper = interval.Upper, level = interval.Level };
}
