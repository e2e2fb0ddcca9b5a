using System.Globalization;
using LRCMT.Cli.Experiments.Reports;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Trains each variant with the same data, encoder and seeds (seed by seed, so an interrupted ablation still has
/// paired results), one sub-folder per variant and seed, then writes results.csv, ablation.json and ablation.md with
/// aggregates over seeds and paired comparisons of LRCMT with each other variant. Full fine-tuning tries every
/// encoder learning rate of the grid and keeps the one with the best mean validation metric. Stops early (keeping
/// the finished runs) on Ctrl+C. <see cref="Report"/> writes the report, for this class and for <see cref="AblationMerge"/>.
/// </summary>
internal static class AblationRun
{
    internal static readonly string[] Columns =
        [MsaMetricNames.Has0Acc2, MsaMetricNames.Has0F1, MsaMetricNames.Non0Acc2, MsaMetricNames.MultAcc7, MsaMetricNames.Mae, MsaMetricNames.Corr];

    /// <summary>The default grid of full fine-tuning encoder learning rates.</summary>
    internal static readonly double[] DefaultEncoderRates = [1e-5, 3e-5, 1e-4];

    private sealed record Arm(ModelVariant Variant, double? EncoderRate, string Folder)
    {
        internal List<SeedRun> Runs { get; } = [];
        internal double TrainableShare { get; set; }
        internal string Label => EncoderRate is { } rate && Variant == ModelVariant.FullFineTuning
            ? $"{Variant}{EncoderRateInfix}{FormatRate(rate)})" : Variant.ToString();
    }

    /// <param name="seeds">The seeds to run; with <paramref name="applySeeds"/> false, the single seed the settings already hold.</param>
    /// <param name="applySeeds">Whether each seed replaces the settings' data and training seeds (true for <c>--seeds</c>).</param>
    /// <param name="missing">Missing-data settings to evaluate every finished run's test split with (<c>--missing-rates</c>); empty for none.</param>
    /// <returns>True when Ctrl+C stopped the ablation.</returns>
    internal static bool Execute(RunSettings settings, IReadOnlyList<ModelVariant> variants, IReadOnlyList<int> seeds, bool applySeeds,
        IReadOnlyList<double> encoderRates, RunFolder folder, CliContext context, IReadOnlyList<MissingModalities>? missing = null)
    {
        var arms = Arms(variants, encoderRates);
        var robustness = new List<RobustnessResult>();
        bool interrupted = false;
        MsaDataset dataset = MsaDataset.Mosi;
        // The report of the runs finished so far: at the end, or (as stopped) when a run fails.
        void WriteReport(bool stopped)
        {
            var (results, grid) = Collect(arms, GridMetric(settings));
            Report(new AblationReport(settings, seeds, results, grid, stopped, dataset, robustness), folder, context);
        }
        foreach (int seed in seeds)
        {
            foreach (var arm in arms)
            {
                string relative = Path.Combine(arm.Folder, SeedsOption.FolderName(seed));
                string directory = folder.File(relative);
                Directory.CreateDirectory(directory);
                TrainingOutcome outcome;
                try
                {
                    outcome = TrainingRun.Execute(ForArm(settings, arm, applySeeds ? seed : null), directory, context, title: $"{arm.Label} · seed {seed}");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A run that fails (a libtorch error, a full disk) ends the ablation, but the runs that finished are
                    // reported as an interrupted ablation's are, so the kept folder can be merged with a re-run of the rest.
                    if (arms.Any(a => a.Runs.Count > 0)) ReportFinishedRuns(() => WriteReport(stopped: true), context);
                    throw;
                }
                if (outcome.ToSeedRun() is not { } run)
                {
                    interrupted = true;
                    break;
                }
                arm.Runs.Add(run);
                arm.TrainableShare = outcome.TrainableShare;
                dataset = outcome.Dataset;
                context.Console.MarkupLine(Markup.Escape(
                    $"{arm.Label}, seed {seed}: {MetricUnits.Label(Columns[0])} {MetricUnits.Format(Columns[0], run.Test[Columns[0]])} in {outcome.Elapsed.TotalSeconds:F0} s"));
                if (missing is { Count: > 0 }) robustness.AddRange(EvaluateMissing(directory, arm.Label, seed, missing, context));
            }
            if (interrupted) break;
        }

        WriteReport(interrupted);
        return interrupted;
    }

    // Writes the report of the runs that finished before a run failed; a failure to write it must not hide the run's own error.
    private static void ReportFinishedRuns(Action writeReport, CliContext context)
    {
        try
        {
            writeReport();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LrcmtException)
        {
            context.Console.MarkupLine(Markup.Escape($"Warning: the report of the finished runs could not be written: {e.Message}"));
        }
    }

    /// <summary>
    /// What an ablation reports, whether it trained its runs (<see cref="Execute"/>) or merged the reports of ablations run
    /// in separate processes (<see cref="AblationMerge"/>).
    /// </summary>
    /// <param name="Settings">The ablation's settings (before any variant is applied), written as its config.json.</param>
    /// <param name="Seeds">The seeds asked for.</param>
    /// <param name="Results">One result per variant, its runs with their test predictions where the bootstrap needs them.</param>
    /// <param name="Grid">Full fine-tuning's encoder learning rate grid, or null.</param>
    /// <param name="Interrupted">Whether a run was interrupted (only the runs listed finished).</param>
    /// <param name="Dataset">The metric set the data follows.</param>
    /// <param name="Robustness">The runs scored with missing data (<c>--missing-rates</c>); empty for none.</param>
    /// <param name="MergedFrom">The ablation folders a merge read, as the report names them; null for an ablation that trained its runs.</param>
    internal sealed record AblationReport(RunSettings Settings, IReadOnlyList<int> Seeds, IReadOnlyList<VariantResult> Results, EncoderRateChoice? Grid,
        bool Interrupted, MsaDataset Dataset, IReadOnlyList<RobustnessResult> Robustness, IReadOnlyList<string>? MergedFrom = null);

    /// <summary>
    /// Compares LRCMT with every other variant and writes results.csv, results-mmsa.csv, ablation.json, ablation.md,
    /// config.json and the robustness files into <paramref name="folder"/>, then the tables on the console.
    /// </summary>
    internal static void Report(AblationReport report, RunFolder folder, CliContext context)
    {
        var (settings, results) = (report.Settings, report.Results);
        var columns = ColumnsFor(report.Dataset);
        var comparisons = Compare(results, report.Dataset, columns);
        var summary = new AblationSummary(Describe(settings), report.Seeds, settings.Training.Epochs, results, comparisons, report.Grid,
            report.Interrupted, report.MergedFrom);

        ResultsCsv.Save(folder.File("results.csv"), results);
        ResultsCsv.SaveMmsa(folder.File("results-mmsa.csv"), results, columns);
        AblationJson.Save(folder.File(RunFiles.AblationRecord), summary);
        AblationMarkdown.Save(folder.File("ablation.md"), summary, columns);
        RunSettingsFile.Save(settings, folder.File(RunFiles.Configuration));
        RobustnessReport.Save(folder.File(""), report.Robustness, columns);
        if (results.Any(r => r.Runs.Count > 0))
        {
            SweepConsole.Aggregates(context.Console, "Ablation (test split)", results, columns);
            SweepConsole.Comparisons(context.Console, comparisons, columns[0]);
        }
    }

    /// <summary>
    /// The validation metric full fine-tuning's grid is chosen on: the selection metric, except that under selection on the
    /// (L1) loss it is MAE (runs keep their validation metrics, not their loss; for a score head it is the same number).
    /// </summary>
    internal static string GridMetric(RunSettings settings) =>
        settings.Training.EarlyStoppingMetric == Training.TrainerOptions.LossMetric ? MsaMetricNames.Mae : settings.Training.EarlyStoppingMetric;

    /// <summary>The saved model of a finished run, evaluated on its test split once per missing-data setting.</summary>
    private static IEnumerable<RobustnessResult> EvaluateMissing(string directory, string variant, int seed, IReadOnlyList<MissingModalities> missing, CliContext context)
    {
        using var restored = RestoredModel.Open(SavedRun.Open(directory), context);
        var results = new List<RobustnessResult>();
        foreach (var setting in missing)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var test = EvaluationRun.Evaluate(restored, "test", setting);
            results.Add(new RobustnessResult(variant, seed, setting, test));
            context.Console.MarkupLine(Markup.Escape(
                $"{variant}, seed {seed}, missing {setting.Rate:0.###}: {MetricUnits.Label(Columns[0])} {MetricUnits.Format(Columns[0], test[Columns[0]])}"));
        }
        return results;
    }

    // What an arm of full fine-tuning's grid adds to the variant's name in the console and robustness.csv: "FullFineTuning (encoder LR 1e-4)".
    private const string EncoderRateInfix = " (encoder LR ";

    /// <summary>The variant an arm's label (the console's and robustness.csv's <c>Model</c>) belongs to: <c>FullFineTuning (encoder LR 1e-4)</c> → <c>FullFineTuning</c>.</summary>
    internal static string VariantOfLabel(string label)
    {
        int at = label.IndexOf(EncoderRateInfix, StringComparison.Ordinal);
        return at < 0 ? label : label[..at];
    }

    /// <summary>A learning rate as people write it: 1e-5, 3e-5, 1e-4.</summary>
    internal static string FormatRate(double rate) => rate.ToString("0.###e-0", CultureInfo.InvariantCulture);

    /// <summary>The headline metrics of a dataset's metric set (MOSI/MOSEI: <see cref="Columns"/>; CH-SIMS: all of its own).</summary>
    internal static IReadOnlyList<string> ColumnsFor(MsaDataset dataset) =>
        dataset == MsaDataset.Sims ? MsaMetrics.NamesFor(MsaDataset.Sims) : Columns;

    /// <summary>A deep copy of <paramref name="settings"/> set up for <paramref name="variant"/>.</summary>
    internal static RunSettings ForVariant(RunSettings settings, ModelVariant variant)
    {
        var copy = RunSettingsFile.Clone(settings);
        copy.ApplyVariant(variant);
        return copy;
    }

    private static RunSettings ForArm(RunSettings settings, Arm arm, int? seed)
    {
        var copy = ForVariant(settings, arm.Variant);
        if (arm.EncoderRate is { } rate) copy.Training = copy.Training with { EncoderLearningRate = rate };
        if (seed is { } s) copy.ApplySeed(s);
        return copy;
    }

    private static List<Arm> Arms(IReadOnlyList<ModelVariant> variants, IReadOnlyList<double> encoderRates)
    {
        var arms = new List<Arm>();
        foreach (var variant in variants)
        {
            if (variant == ModelVariant.FullFineTuning && encoderRates.Count > 1)
                arms.AddRange(encoderRates.Select(rate => new Arm(variant, rate,
                    Path.Combine(variant.ToString(), "encoder-lr-" + FormatRate(rate)))));
            else
                arms.Add(new Arm(variant, variant == ModelVariant.FullFineTuning && encoderRates.Count == 1 ? encoderRates[0] : null, variant.ToString()));
        }
        return arms;
    }

    /// <summary>One result per variant; full fine-tuning's grid collapses to the rate with the best mean validation metric.</summary>
    private static (List<VariantResult> Results, EncoderRateChoice? Grid) Collect(List<Arm> arms, string selectionMetric)
    {
        var results = new List<VariantResult>();
        EncoderRateChoice? grid = null;
        foreach (var group in arms.GroupBy(a => a.Variant))
        {
            var candidates = group.ToList();
            var chosen = candidates[0];
            if (candidates.Count > 1)
            {
                var finished = candidates.Where(a => a.Runs.Count > 0).ToList();
                if (finished.Count > 0)
                {
                    var (index, means) = ValidationGrid.Choose(finished.Select(a => (IReadOnlyList<SeedRun>)a.Runs).ToList(), selectionMetric);
                    chosen = finished[index];
                    grid = new EncoderRateChoice(selectionMetric, finished.Select(a => a.EncoderRate!.Value).ToList(), means,
                        finished.Select(a => a.Runs.Count).ToList(), index);
                }
            }
            results.Add(new VariantResult(group.Key.ToString(), chosen.TrainableShare, chosen.Folder.Replace('\\', '/'), chosen.Runs));
        }
        return (results, grid);
    }

    /// <summary>LRCMT (or the first variant) against every other variant that finished a seed in common.</summary>
    private static List<PairedComparison> Compare(IReadOnlyList<VariantResult> results, MsaDataset dataset, IReadOnlyList<string> columns)
    {
        var finished = results.Where(r => r.Runs.Count > 0).ToList();
        if (finished.Count < 2) return [];
        var candidate = finished.FirstOrDefault(r => r.Name == nameof(ModelVariant.Lrcmt)) ?? finished[0];
        var comparisons = new List<PairedComparison>();
        foreach (var baseline in finished.Where(r => r != candidate))
        {
            if (!candidate.Runs.Any(c => baseline.Runs.Any(b => b.Seed == c.Seed))) continue;
            comparisons.AddRange(PairedComparison.Compare(candidate.Name, candidate.Runs, baseline.Name, baseline.Runs, columns,
                (p, t) => MsaMetrics.Compute(dataset, p, t).Values));
        }
        return comparisons;
    }

    private static string Describe(RunSettings settings) =>
        settings.Data.IsControlled ? "the controlled benchmark" : Path.GetFileName(settings.Data.Source);
}
