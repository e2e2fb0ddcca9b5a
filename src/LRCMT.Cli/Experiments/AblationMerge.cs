using LRCMT.Cli.Experiments.Reports;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Data;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// <c>ablate --merge</c>: one report from ablations run in separate processes (e.g. the two halves of
/// scripts/ablation-baselines.sh). It trains nothing: it reads each folder's config.json, ablation.json and
/// robustness.csv, refuses folders that differ in anything but their variants, takes the union of the variants (a variant
/// several folders ran is taken once, from the folder with the most finished seeds, and its test metrics are checked to
/// agree across folders), and writes the same report an ablation writes through <see cref="AblationRun.Report"/>. The
/// runs stay where they are (the report names their folders relative to its own); nothing in the source folders changes.
/// </summary>
internal static class AblationMerge
{
    /// <summary>One source folder, read: its name as given, its full path, its settings, its ablation.json and robustness.csv.</summary>
    internal sealed record Source(string Name, string Folder, RunSettings Settings, AblationJson.SavedAblation Ablation, IReadOnlyList<RobustnessResult> Robustness);

    /// <summary>The source folders, read and checked before anything is written, and what the console should say about them.</summary>
    internal sealed record Plan(IReadOnlyList<Source> Sources, IReadOnlyList<string> Notes);

    /// <summary>
    /// Reads the ablation folders (as given on the command line) and checks that they differ only in their variants:
    /// the settings of their config.json (except the device and the threads, which change how a run computes, not what
    /// it is), their seeds and their missing-data evaluation.
    /// </summary>
    /// <exception cref="CliException">
    /// Fewer than two folders, a folder twice (usage error); a folder that is not an ablation's (run error); folders that
    /// differ (usage error, one line per difference).
    /// </exception>
    internal static Plan Open(IReadOnlyList<string> folders)
    {
        if (folders.Count < 2)
            throw new CliException(ExitCodes.UsageError, $"--merge needs at least two ablation folders, got {folders.Count}.");
        var twice = folders.GroupBy(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new CliException(ExitCodes.UsageError, $"--merge names the folder '{twice.Key}' more than once.");
        var sources = folders.Select(Read).ToList();

        var first = sources[0];
        var refused = new List<string>();
        var notes = new List<string>();
        foreach (var other in sources.Skip(1))
        {
            foreach (var d in SettingsDifferences.Between(first.Settings, other.Settings))
            {
                string line = $"{d.Path}: '{first.Name}' has {d.Run}, '{other.Name}' has {d.Asked}";
                if (SettingsDifferences.IsExecutionOnly(d.Path))
                    notes.Add($"Note: {line} (how the runs executed, not what they compute; on another device or thread count repeated runs need not be bit-identical, docs/ablation.md §0.5).");
                else refused.Add(line);
            }
            if (!first.Ablation.Seeds.SequenceEqual(other.Ablation.Seeds))
                refused.Add($"seeds: '{first.Name}' has [{string.Join(", ", first.Ablation.Seeds)}], '{other.Name}' has [{string.Join(", ", other.Ablation.Seeds)}]");
            if (HasRuns(first) && HasRuns(other) && MissingData(first) != MissingData(other))
                refused.Add($"missing-data evaluation (--missing-rates): '{first.Name}' has {MissingData(first)}, '{other.Name}' has {MissingData(other)}");
        }
        if (refused.Count > 0)
            throw new CliException(ExitCodes.UsageError,
                $"--merge combines ablations that differ only in their variants (same settings, seeds and missing-data evaluation). These differ:" +
                $"{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", refused)}");
        return new Plan(sources, notes);
    }

    /// <summary>
    /// Refuses an output folder that is a source folder, inside one (the merge would change it) or holds one (<c>--force</c>
    /// would delete it with the old output).
    /// </summary>
    /// <exception cref="CliException">The output overlaps a source folder (usage error).</exception>
    internal static void CheckOutput(Plan plan, string output)
    {
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        foreach (var source in plan.Sources)
            if (Within(target, source.Folder) || Within(source.Folder, target))
                throw new CliException(ExitCodes.UsageError,
                    $"--output '{output}' overlaps the ablation folder '{source.Name}'; --merge leaves the folders it reads as they are: choose an output outside them.");
    }

    // Whether path is folder or lies inside it.
    private static bool Within(string path, string folder) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Writes the merged report into <paramref name="folder"/>: the union of the variants, each from one source folder,
    /// with its runs' test predictions (test-predictions.csv, or recomputed from the saved model for folders written
    /// before runs kept them) so the paired comparisons get their bootstrap intervals.
    /// </summary>
    internal static void Write(Plan plan, RunFolder folder, CliContext context)
    {
        var sources = plan.Sources;
        foreach (var note in plan.Notes) context.Console.MarkupLine(Markup.Escape(note));
        var results = new List<VariantResult>();
        var robustness = new List<RobustnessResult>();
        EncoderRateChoice? grid = null;
        foreach (string name in sources.SelectMany(s => s.Ablation.Variants.Select(v => v.Name)).Distinct())
        {
            var having = sources.Select(s => (Source: s, Variant: s.Ablation.Variants.FirstOrDefault(v => v.Name == name)))
                .Where(p => p.Variant is not null).ToList();
            // The folder with the most finished seeds of the variant (the earliest of equals): an interrupted half loses nothing it need not.
            var (source, variant) = having.OrderByDescending(p => p.Variant!.Runs.Count).First();
            foreach (var (other, otherVariant) in having.Where(p => p.Source != source))
                WarnIfDifferent(name, source, variant!, other, otherVariant!, context);

            var runs = variant!.Runs.Select(r => WithPredictions(name, source, r, context)).ToList();
            string variantFolder = variant.Runs.Count > 0 ? ParentOf(variant.Runs[0].Folder) : name;
            results.Add(new VariantResult(name, variant.TrainableShare, Relative(folder.Target, Path.Combine(source.Folder, variantFolder)), runs));
            robustness.AddRange(source.Robustness.Where(r => AblationRun.VariantOfLabel(r.Variant) == name && runs.Any(run => run.Seed == r.Seed)));
            if (name == nameof(ModelVariant.FullFineTuning)) grid = source.Ablation.EncoderRates;
        }

        var settings = sources[0].Settings;
        var seeds = sources[0].Ablation.Seeds.ToList();
        var report = new AblationRun.AblationReport(settings, seeds, results, grid, sources.Any(s => s.Ablation.Interrupted),
            // Seed by seed, as an ablation writes them (OrderBy is stable: the variants stay in order within a seed).
            MetricSetOf(results), robustness.OrderBy(r => seeds.IndexOf(r.Seed)).ToList(), sources.Select(s => Relative(folder.Target, s.Folder)).ToList());
        AblationRun.Report(report, folder, context);
    }

    private static Source Read(string given)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(given));
        if (!Directory.Exists(full))
            throw new CliException(ExitCodes.RunError, $"The ablation folder '{given}' does not exist.");
        string configuration = Path.Combine(full, RunFiles.Configuration);
        string record = Path.Combine(full, "ablation.json");
        if (!File.Exists(configuration) || !File.Exists(record))
            throw new CliException(ExitCodes.RunError,
                $"The folder '{given}' lacks {(File.Exists(configuration) ? "" : $"{RunFiles.Configuration} and ")}ablation.json; was it written by 'lrcmt ablate'? " +
                "(An ablation still running writes them when it ends, or when Ctrl+C stops it.)");
        var settings = RunSettingsFile.ReadResolved(configuration);
        return new Source(given, full, settings, AblationJson.Read(record, AblationRun.GridMetric(settings)), RobustnessReport.Read(full));
    }

    private static bool HasRuns(Source source) => source.Ablation.Variants.Any(v => v.Runs.Count > 0);

    // What --missing-rates, --missing-whole-modalities and --missing-seed were, as far as robustness.csv says.
    private static string MissingData(Source source)
    {
        if (source.Robustness.Count == 0) return "none";
        var settings = source.Robustness.Select(r => $"{(r.Missing.WholeModalities ? "whole modalities" : "frames")}, mask seed {r.Missing.Seed}").Distinct();
        var rates = source.Robustness.Select(r => r.Missing.Rate).Distinct().Order();
        return $"{string.Join(" / ", settings)}, rates {string.Join(", ", rates.Select(r => r.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}";
    }

    // Runs of one variant in two folders are the same runs (same settings and seed): their test metrics should be bit-identical.
    private static void WarnIfDifferent(string name, Source taken, AblationJson.SavedVariant takenVariant, Source other, AblationJson.SavedVariant otherVariant, CliContext context)
    {
        var bySeed = otherVariant.Runs.ToDictionary(r => r.Run.Seed, r => r.Run.Test);
        var differing = takenVariant.Runs
            .Where(r => bySeed.TryGetValue(r.Run.Seed, out var test) && (test.Count != r.Run.Test.Count || r.Run.Test.Any(m => !test.TryGetValue(m.Key, out double v) || v != m.Value)))
            .Select(r => r.Run.Seed).ToList();
        if (differing.Count > 0)
            context.Console.MarkupLine(Markup.Escape(
                $"Warning: {name}'s test metrics differ between '{taken.Name}' and '{other.Name}' in seed(s) {string.Join(", ", differing)} " +
                $"(repeated runs should be bit-identical, docs/ablation.md §0.5); the report takes '{taken.Name}'s."));
    }

    /// <summary>The run with its test predictions: from test-predictions.csv, else recomputed from its saved model (null if that fails).</summary>
    private static SeedRun WithPredictions(string variant, Source source, AblationJson.ListedRun saved, CliContext context)
    {
        context.Cancellation.ThrowIfCancellationRequested();
        string directory = Path.GetFullPath(Path.Combine(source.Folder, saved.Folder));
        string file = Path.Combine(directory, RunFiles.TestPredictions);
        var run = saved.Run;
        if (File.Exists(file)) return new SeedRun(run.Seed, run.Test, run.Valid, PredictionsFile.Read(file));

        context.Console.MarkupLine(Markup.Escape($"{variant}, seed {run.Seed}: no {RunFiles.TestPredictions} in {directory}; recomputing it from the saved model."));
        try
        {
            using var restored = RestoredModel.Open(SavedRun.Open(directory), context);
            if (restored.IsClassifier) return run; // a classification head has no per-sample scores to resample
            var predictions = Trainer.Predict(restored.Model, restored.Loader("test"));
            var again = predictions.Metrics(restored.Data.MetricSet).Values;
            if (run.Test.Any(m => !again.TryGetValue(m.Key, out double v) || Math.Abs(v - m.Value) > 1e-6))
                context.Console.MarkupLine(Markup.Escape(
                    $"Warning: {variant}, seed {run.Seed}: the reloaded model does not reproduce the recorded test metrics; its bootstrap interval uses the reloaded predictions."));
            return new SeedRun(run.Seed, run.Test, run.Valid, predictions);
        }
        catch (CliException e)
        {
            context.Console.MarkupLine(Markup.Escape($"Warning: {variant}, seed {run.Seed}: {e.Message} Its comparisons get no bootstrap interval."));
            return run;
        }
    }

    // "Lrcmt/seed-1" -> "Lrcmt"; "FullFineTuning/encoder-lr-3e-5/seed-1" -> "FullFineTuning/encoder-lr-3e-5".
    private static string ParentOf(string runFolder)
    {
        int slash = runFolder.Replace('\\', '/').LastIndexOf('/');
        return slash < 0 ? "" : runFolder[..slash];
    }

    // A path as the report writes it: relative to the merged folder, '/'-separated (absolute where no relative path exists, e.g. another drive).
    private static string Relative(string target, string path) => Path.GetRelativePath(target, Path.GetFullPath(path)).Replace('\\', '/');

    // The metric names say which metric set the runs were scored with (CH-SIMS has its own; MOSI and MOSEI share one).
    private static MsaDataset MetricSetOf(IReadOnlyList<VariantResult> results) =>
        results.SelectMany(r => r.Runs).FirstOrDefault() is { } run && !run.Test.ContainsKey(MsaMetricNames.Has0Acc2)
            && MsaMetrics.NamesFor(MsaDataset.Sims).All(run.Test.ContainsKey)
            ? MsaDataset.Sims : MsaDataset.Mosi;
}
