using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Evaluation;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Trains each variant with the same data, encoder and seeds, one sub-folder each, and writes ablation.json and
/// ablation.md. Stops early (keeping the finished rows) on Ctrl+C.
/// </summary>
internal static class AblationRun
{
    internal static readonly string[] Columns =
        [MsaMetricNames.Has0Acc2, MsaMetricNames.Has0F1, MsaMetricNames.Non0Acc2, MsaMetricNames.MultAcc7, MsaMetricNames.Mae, MsaMetricNames.Corr];

    /// <returns>True when Ctrl+C stopped the ablation.</returns>
    internal static bool Execute(RunSettings settings, IReadOnlyList<ModelVariant> variants, RunFolder folder, CliContext context)
    {
        var rows = new List<AblationRow>();
        bool interrupted = false;
        foreach (var variant in variants)
        {
            var variantSettings = ForVariant(settings, variant);
            string directory = folder.File(variant.ToString());
            Directory.CreateDirectory(directory);
            var outcome = TrainingRun.Execute(variantSettings, directory, context, title: variant.ToString());
            if (outcome.Interrupted || outcome.TestMetrics is null)
            {
                interrupted = true;
                break;
            }
            rows.Add(new AblationRow(variant.ToString(), outcome.TrainableShare, outcome.TestMetrics));
            context.Console.MarkupLine($"{variant}: Has0_acc_2 {ConsoleReport.Format(MsaMetricNames.Has0Acc2, outcome.TestMetrics[MsaMetricNames.Has0Acc2])} in {outcome.Elapsed.TotalSeconds:F0} s");
        }

        AblationReport.SaveJson(folder.File("ablation.json"), rows);
        AblationReport.SaveMarkdown(folder.File("ablation.md"), rows, Columns,
            $"Ablation on {Describe(settings)}, seed {settings.Training.Seed}, {settings.Training.Epochs} epochs (test split; accuracies and F1 in %)." +
            (interrupted ? " Interrupted: only the variants listed finished." : ""));
        RunSettingsFile.Save(settings, folder.File(RunFiles.Configuration));
        if (rows.Count > 0) ConsoleReport.Ablation(context.Console, rows, Columns);
        return interrupted;
    }

    /// <summary>A deep copy of <paramref name="settings"/> set up for <paramref name="variant"/>.</summary>
    internal static RunSettings ForVariant(RunSettings settings, ModelVariant variant)
    {
        var copy = RunSettingsFile.Clone(settings);
        copy.ApplyVariant(variant);
        return copy;
    }

    private static string Describe(RunSettings settings) =>
        settings.Data.IsControlled ? "the controlled benchmark" : Path.GetFileName(settings.Data.Source);
}
