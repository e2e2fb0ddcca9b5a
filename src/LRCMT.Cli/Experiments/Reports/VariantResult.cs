using LRCMT.Experiments;

namespace LRCMT.Cli.Experiments.Reports;

/// <summary>One variant of an ablation (or the configuration of a multi-seed train): its seed runs and their summary.</summary>
/// <param name="Name">Variant name.</param>
/// <param name="TrainableShare">Trainable parameters / all parameters.</param>
/// <param name="Folder">
/// The variant's folder, relative to the output folder ("" for a plain train; for a merged ablation, e.g. <c>../a/Lrcmt</c>:
/// the runs stay in the ablation folder they were trained in).
/// </param>
/// <param name="Runs">Finished seed runs.</param>
/// <param name="RunFolders">
/// Each run's folder relative to the output folder, in the order of <paramref name="Runs"/>, where the runs do not all lie
/// in <paramref name="Folder"/> (a merge that took a variant's seeds from several ablations); null: <c>Folder/seed-N</c>.
/// </param>
internal sealed record VariantResult(string Name, double TrainableShare, string Folder, IReadOnlyList<SeedRun> Runs, IReadOnlyList<string>? RunFolders = null)
{
    /// <summary>The folder of run <paramref name="index"/> of <see cref="Runs"/>, relative to the output folder, '/'-separated.</summary>
    internal string RunFolder(int index) => RunFolders?[index] ?? $"{Folder}/{SeedsOption.FolderName(Runs[index].Seed)}";

    /// <summary>Mean, sample std, min and max of every test metric over <see cref="Runs"/>.</summary>
    internal IReadOnlyList<MetricSummary> Summary { get; } = Runs.Count > 0 ? MetricSummary.OfRuns(Runs.Select(r => r.Test).ToList()) : [];
}

/// <summary>The encoder learning rates full fine-tuning tried, their mean validation metric, and the one chosen.</summary>
internal sealed record EncoderRateChoice(string Metric, IReadOnlyList<double> Rates, IReadOnlyList<double> MeanValidation, IReadOnlyList<int> SeedCounts, int Chosen);

/// <summary>
/// Everything an ablation writes: variants, paired comparisons of the candidate with each baseline, the full fine-tuning
/// grid, and for a merged ablation the folders it was merged from (relative to its own folder).
/// </summary>
internal sealed record AblationSummary(
    string Description,
    IReadOnlyList<int> Seeds,
    int Epochs,
    IReadOnlyList<VariantResult> Variants,
    IReadOnlyList<PairedComparison> Comparisons,
    EncoderRateChoice? EncoderRates,
    bool Interrupted,
    IReadOnlyList<string>? MergedFrom = null);
