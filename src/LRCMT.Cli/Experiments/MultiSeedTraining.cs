using LRCMT.Cli.Experiments.Reports;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Experiments;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// <c>train --seeds</c>: one full run per seed in <c>seed-N</c> sub-folders, then results.csv (one row per seed plus
/// mean, std, min and max rows) and the aggregate table on the console.
/// </summary>
internal static class MultiSeedTraining
{
    /// <returns>True when Ctrl+C stopped the sweep.</returns>
    internal static bool Execute(RunSettings settings, IReadOnlyList<int> seeds, RunFolder folder, CliContext context)
    {
        double trainableShare = 0;
        var columns = AblationRun.Columns.ToList();
        var sweep = SeedSweep.Run(seeds, seed =>
        {
            string directory = folder.File(SeedsOption.FolderName(seed));
            Directory.CreateDirectory(directory);
            var outcome = TrainingRun.Execute(SeedsOption.ForSeed(settings, seed), directory, context, title: $"Training · seed {seed}");
            trainableShare = outcome.TrainableShare;
            columns = AblationRun.ColumnsFor(outcome.Dataset).ToList();
            var run = outcome.ToSeedRun();
            if (run is not null)
                context.Console.MarkupLine(Markup.Escape(
                    $"seed {seed}: {MetricUnits.Label(columns[0])} {MetricUnits.Format(columns[0], run.Test[columns[0]])} in {outcome.Elapsed.TotalSeconds:F0} s"));
            return run;
        });

        string name = VariantName(settings);
        var result = new VariantResult(name, trainableShare, "", sweep.Runs);
        ResultsCsv.Save(folder.File("results.csv"), [result]);
        RunSettingsFile.Save(settings, folder.File(RunFiles.Configuration));
        if (sweep.Runs.Count > 0)
            SweepConsole.Aggregates(context.Console, $"Test metrics over {sweep.Runs.Count} seed(s)", [result], columns);
        return sweep.Interrupted;
    }

    /// <summary>The ablation variant these settings amount to (its interaction and encoder tuning), for results.csv's Model column.</summary>
    private static string VariantName(RunSettings settings)
    {
        foreach (var variant in Enum.GetValues<ModelVariant>())
        {
            var probe = new RunSettings();
            probe.ApplyVariant(variant);
            if (probe.Model.Interaction.Mode == settings.Model.Interaction.Mode && probe.Model.TextEncoder.Tuning == settings.Model.TextEncoder.Tuning)
                return variant.ToString();
        }
        return $"{settings.Model.Interaction.Mode}+{settings.Model.TextEncoder.Tuning}";
    }
}
