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
/// scripts/ablation-baselines.sh, or one variant's seeds split over processes). It trains nothing: it reads each folder's
/// config.json, ablation.json and robustness.csv, refuses folders that differ in anything but their variants and seeds,
/// takes the union of the variants and, per variant, of the seeds (a seed several folders ran is taken once, from the
/// folder with the most finished seeds of that variant, and its test metrics are checked to agree across folders; a
/// variant whose seeds come from several folders must have run with the same settings in each), and writes the same
/// report an ablation writes through <see cref="AblationRun.Report"/>. The runs stay where they are (the report names
/// their folders relative to its own); nothing in the source folders changes.
/// </summary>
internal static class AblationMerge
{
    /// <summary>One source folder, read: its name as given, its full path, its settings, its ablation.json and robustness.csv.</summary>
    internal sealed record Source(string Name, string Folder, RunSettings Settings, AblationJson.SavedAblation Ablation, IReadOnlyList<RobustnessResult> Robustness);

    /// <summary>One run the merge takes: the folder it was listed in, and its entry there.</summary>
    internal sealed record TakenRun(Source Source, AblationJson.ListedRun Listed);

    /// <summary>
    /// One variant of the merged report: its runs seed by seed (each from one folder), and the folder with the most of
    /// them (its trainable share, its full fine-tuning grid and its folder name come from there).
    /// </summary>
    internal sealed record TakenVariant(string Name, Source Primary, AblationJson.SavedVariant PrimaryVariant, IReadOnlyList<TakenRun> Runs);

    /// <summary>
    /// The source folders, read and checked before anything is written: the seeds of the merged report (every folder's,
    /// in the order first named), the variants as taken, and what the console should say (notes, then warnings).
    /// </summary>
    internal sealed record Plan(IReadOnlyList<Source> Sources, IReadOnlyList<int> Seeds, IReadOnlyList<TakenVariant> Variants, IReadOnlyList<string> Notes);

    /// <summary>
    /// Reads the ablation folders (as given on the command line) and checks that they differ only in their variants and
    /// seeds: the settings of their config.json (except the device and the threads, which change how a run computes, not
    /// what it is) and their missing-data evaluation; a variant whose runs come from several folders must also have run
    /// with the same settings in each (its runs' own config.json, seed aside: e.g. full fine-tuning's encoder learning rate).
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
            if (HasRuns(first) && HasRuns(other) && MissingData(first) != MissingData(other))
                refused.Add($"missing-data evaluation (--missing-rates): '{first.Name}' has {MissingData(first)}, '{other.Name}' has {MissingData(other)}");
        }
        if (sources.Any(s => !s.Ablation.Seeds.SequenceEqual(first.Ablation.Seeds)))
            notes.Add($"Note: the folders ran different seeds ({string.Join("; ", sources.Select(s => $"'{s.Name}' [{string.Join(", ", s.Ablation.Seeds)}]"))}): " +
                      "each variant's runs are taken seed by seed from the folders that finished them, and every comparison pairs the seeds both sides finished.");

        var seeds = sources.SelectMany(s => s.Ablation.Seeds).Distinct().ToList();
        var variants = new List<TakenVariant>();
        foreach (string name in sources.SelectMany(s => s.Ablation.Variants.Select(v => v.Name)).Distinct())
        {
            var variant = Take(name, sources, seeds, notes);
            refused.AddRange(RunSettingsDifferences(variant));
            variants.Add(variant);
        }
        if (refused.Count > 0)
            throw new CliException(ExitCodes.UsageError,
                $"--merge combines ablations that differ only in their variants and seeds (same settings and missing-data evaluation). These differ:" +
                $"{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", refused)}");
        return new Plan(sources, seeds, variants, notes);
    }

    /// <summary>
    /// A variant's runs, seed by seed: from the folder with the most finished seeds of it (the first named of equals), then
    /// the seeds it lacks from the others in the same order; listed in the order of the report's <paramref name="seeds"/>.
    /// A seed that two folders finished is one run twice (same settings and seed): a warning names it where their test
    /// metrics differ.
    /// </summary>
    private static TakenVariant Take(string name, IReadOnlyList<Source> sources, List<int> seeds, List<string> notes)
    {
        var having = sources.Select(s => (Source: s, Variant: s.Ablation.Variants.FirstOrDefault(v => v.Name == name)))
            .Where(p => p.Variant is not null).OrderByDescending(p => p.Variant!.Runs.Count).ToList();
        var taken = new List<TakenRun>();
        var differing = new List<string>();
        foreach (var (source, variant) in having)
            foreach (var listed in variant!.Runs)
            {
                var already = taken.FirstOrDefault(t => t.Listed.Run.Seed == listed.Run.Seed);
                if (already is null) taken.Add(new TakenRun(source, listed));
                else if (!SameMetrics(already.Listed.Run.Test, listed.Run.Test))
                    differing.Add($"seed {listed.Run.Seed} ('{already.Source.Name}' taken, '{source.Name}' differs)");
            }
        if (differing.Count > 0)
            notes.Add($"Warning: {name}'s test metrics differ between folders in {string.Join(", ", differing)} " +
                      "(repeated runs should be bit-identical, docs/ablation.md §0.5); the report takes the first.");
        return new TakenVariant(name, having[0].Source, having[0].Variant!, taken.OrderBy(t => seeds.IndexOf(t.Listed.Run.Seed)).ToList());
    }

    private static bool SameMetrics(IReadOnlyDictionary<string, double> a, IReadOnlyDictionary<string, double> b) =>
        a.Count == b.Count && a.All(m => b.TryGetValue(m.Key, out double v) && v == m.Value);

    // A variant taken from several folders ran with the same settings in each: its runs' own config.json (which holds what
    // the variant and an encoder learning rate changed), compared with the seed set alike; execution-only settings may differ.
    private static IEnumerable<string> RunSettingsDifferences(TakenVariant variant)
    {
        var bySource = variant.Runs.GroupBy(r => r.Source).Select(g => (Source: g.Key, Run: g.First().Listed)).ToList();
        if (bySource.Count < 2) yield break;
        var settings = bySource.Select(p =>
        {
            var run = RunSettingsFile.ReadResolved(Path.Combine(p.Source.Folder, p.Run.Folder, RunFiles.Configuration));
            run.ApplySeed(0);
            return run;
        }).ToList();
        for (int i = 1; i < settings.Count; i++)
            foreach (var d in SettingsDifferences.Between(settings[0], settings[i]).Where(d => !SettingsDifferences.IsExecutionOnly(d.Path)))
                yield return $"{variant.Name}'s runs, {d.Path}: '{bySource[0].Source.Name}' has {d.Run}, '{bySource[i].Source.Name}' has {d.Asked}";
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
        foreach (var note in plan.Notes) context.Console.MarkupLine(Markup.Escape(note));
        var results = new List<VariantResult>();
        var robustness = new List<RobustnessResult>();
        EncoderRateChoice? grid = null;
        foreach (var variant in plan.Variants)
        {
            var runs = variant.Runs.Select(t => WithPredictions(variant.Name, t.Source, t.Listed, context)).ToList();
            var runFolders = variant.Runs.Select(t => Relative(folder.Target, Path.Combine(t.Source.Folder, t.Listed.Folder))).ToList();
            var primaryRuns = variant.PrimaryVariant.Runs;
            string variantFolder = Relative(folder.Target, Path.Combine(variant.Primary.Folder, primaryRuns.Count > 0 ? ParentOf(primaryRuns[0].Folder) : variant.Name));
            results.Add(new VariantResult(variant.Name, variant.PrimaryVariant.TrainableShare, variantFolder, runs, runFolders));
            foreach (var taken in variant.Runs)
                robustness.AddRange(taken.Source.Robustness.Where(r => AblationRun.VariantOfLabel(r.Variant) == variant.Name && r.Seed == taken.Listed.Run.Seed));
            if (variant.Name == nameof(ModelVariant.FullFineTuning)) grid = variant.Primary.Ablation.EncoderRates;
        }

        var sources = plan.Sources;
        var seeds = plan.Seeds.ToList();
        // Incomplete when an interrupted folder left a variant without one of the report's seeds (another folder may have run it).
        bool incomplete = sources.Any(s => s.Ablation.Interrupted) && results.Any(r => r.Runs.Count < seeds.Count);
        var report = new AblationRun.AblationReport(sources[0].Settings, seeds, results, grid, incomplete,
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
        string record = Path.Combine(full, RunFiles.AblationRecord);
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
