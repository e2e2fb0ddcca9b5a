using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Experiments;

/// <summary>
/// Candidate vs baseline on one metric, paired by seed (both trained on the same generated data, initialisation seed
/// and shuffling): per-seed differences (candidate − baseline, in the metric's unit), their mean, a paired t interval
/// over seeds, a paired bootstrap interval over test samples pooled across seeds, and in how many seeds the candidate
/// came out better. The <see cref="Conclusion"/> rests on the t interval alone, because run-to-run variation is the
/// larger source of uncertainty here and only the interval over seeds sees it; the bootstrap interval, which only sees
/// test-sample noise, is reported beside it.
/// </summary>
public sealed class PairedComparison
{
    private PairedComparison(string metric, string candidate, string baseline, IReadOnlyList<int> seeds, IReadOnlyList<double> differences,
        ConfidenceInterval? tInterval, ConfidenceInterval? bootstrapInterval)
    {
        Metric = metric;
        Candidate = candidate;
        Baseline = baseline;
        Seeds = seeds;
        Differences = differences;
        MeanDifference = differences.Average();
        TInterval = tInterval;
        BootstrapInterval = bootstrapInterval;
        HigherIsBetter = MsaMetricNames.HigherIsBetter(metric);
        SeedsFavouringCandidate = differences.Count(d => HigherIsBetter ? d > 0 : d < 0);
        Conclusion = tInterval is not { ExcludesZero: true } ? ComparisonConclusion.NotShown
            : (tInterval.Lower > 0) == HigherIsBetter ? ComparisonConclusion.CandidateBetter
            : ComparisonConclusion.BaselineBetter;
    }

    /// <summary>The metric's MMSA name.</summary>
    public string Metric { get; }

    /// <summary>Name of the candidate configuration.</summary>
    public string Candidate { get; }

    /// <summary>Name of the baseline configuration.</summary>
    public string Baseline { get; }

    /// <summary>The seeds both configurations ran, in order.</summary>
    public IReadOnlyList<int> Seeds { get; }

    /// <summary>Per seed: candidate − baseline.</summary>
    public IReadOnlyList<double> Differences { get; }

    /// <summary>Mean of <see cref="Differences"/>.</summary>
    public double MeanDifference { get; }

    /// <summary>Paired t interval over seeds (null with one seed).</summary>
    public ConfidenceInterval? TInterval { get; }

    /// <summary>Paired bootstrap interval over test samples pooled across seeds (null without per-sample predictions).</summary>
    public ConfidenceInterval? BootstrapInterval { get; }

    /// <summary>False for MAE, where the smaller value is better.</summary>
    public bool HigherIsBetter { get; }

    /// <summary>In how many seeds the candidate was strictly better than the baseline.</summary>
    public int SeedsFavouringCandidate { get; }

    /// <summary>What may be claimed: decided by <see cref="TInterval"/> only.</summary>
    public ComparisonConclusion Conclusion { get; }

    /// <summary>
    /// Compares <paramref name="candidateRuns"/> with <paramref name="baselineRuns"/> on each of <paramref name="metrics"/>,
    /// pairing runs by seed (seeds that only one side ran are left out).
    /// </summary>
    /// <param name="candidate">The candidate's name, e.g. "Lrcmt".</param>
    /// <param name="candidateRuns">The candidate's seed runs.</param>
    /// <param name="baseline">The baseline's name.</param>
    /// <param name="baselineRuns">The baseline's seed runs.</param>
    /// <param name="metrics">The metric names to compare.</param>
    /// <param name="sampleMetrics">Computes every metric from (predictions, truths) for the bootstrap; null, or runs without predictions, leave it out.</param>
    /// <param name="resamples">Bootstrap resamples.</param>
    /// <param name="bootstrapSeed">Seed of the bootstrap's generator.</param>
    /// <param name="level">Confidence level of both intervals.</param>
    /// <exception cref="InvalidInputException">No seed in common, or a metric one of the runs does not report.</exception>
    public static IReadOnlyList<PairedComparison> Compare(
        string candidate, IReadOnlyList<SeedRun> candidateRuns,
        string baseline, IReadOnlyList<SeedRun> baselineRuns,
        IReadOnlyList<string> metrics,
        Func<float[], float[], IReadOnlyDictionary<string, double>>? sampleMetrics = null,
        int resamples = PairedBootstrap.DefaultResamples,
        int bootstrapSeed = 0,
        double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(candidateRuns);
        ArgumentNullException.ThrowIfNull(baselineRuns);
        ArgumentNullException.ThrowIfNull(metrics);
        var bySeed = baselineRuns.ToDictionary(r => r.Seed);
        var pairs = candidateRuns.Where(r => bySeed.ContainsKey(r.Seed)).Select(r => (Candidate: r, Baseline: bySeed[r.Seed])).ToList();
        if (pairs.Count == 0)
            throw new InvalidInputException($"comparison {candidate} vs {baseline}",
                $"no seed in common (candidate: [{string.Join(", ", candidateRuns.Select(r => r.Seed))}], baseline: [{string.Join(", ", baselineRuns.Select(r => r.Seed))}]).");
        foreach (var metric in metrics)
            foreach (var (c, b) in pairs)
                if (!c.Test.ContainsKey(metric) || !b.Test.ContainsKey(metric))
                    throw new InvalidInputException($"comparison {candidate} vs {baseline}", $"seed {c.Seed} has no test metric '{metric}'.");

        IReadOnlyDictionary<string, ConfidenceInterval>? bootstrap = null;
        if (sampleMetrics is not null && pairs.All(p => p.Candidate.TestPredictions is not null && p.Baseline.TestPredictions is not null))
            bootstrap = PairedBootstrap.MeanDifference(
                pairs.Select(p => p.Candidate.TestPredictions!).ToList(), pairs.Select(p => p.Baseline.TestPredictions!).ToList(),
                sampleMetrics, resamples, bootstrapSeed, level);

        var seeds = pairs.Select(p => p.Candidate.Seed).ToArray();
        return metrics.Select(metric =>
        {
            var differences = pairs.Select(p => p.Candidate.Test[metric] - p.Baseline.Test[metric]).ToArray();
            return new PairedComparison(metric, candidate, baseline, seeds, differences,
                PairedTInterval.Compute(differences, level), bootstrap?.GetValueOrDefault(metric));
        }).ToList();
    }
}
