using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.Experiments;

/// <summary>
/// Paired bootstrap over test samples, pooled across seeds: each resample draws, within every seed's test split, as
/// many samples as it has, with replacement, the same draw for both models (that is the pairing); the statistic is the
/// mean over seeds of metric(candidate) − metric(baseline) on the drawn samples. The interval is the percentile one
/// (quantiles with linear interpolation between order statistics, numpy's default). It measures how much the
/// difference could move with other test samples from the same distribution; it does not see the run-to-run
/// variation of training (<see cref="PairedTInterval"/> does).
/// </summary>
/// <remarks>
/// Draw order, so the result is reproducible: one <see cref="Random"/> seeded with the given seed; for each resample,
/// for each seed's split in order, <c>n</c> calls of <c>Next(n)</c>.
/// </remarks>
public static class PairedBootstrap
{
    /// <summary>Default number of resamples.</summary>
    public const int DefaultResamples = 2000;

    /// <summary>
    /// Percentile intervals of the mean (over seeds) paired difference of every metric <paramref name="metrics"/> returns.
    /// </summary>
    /// <param name="candidate">Per seed, the candidate's predictions on that seed's test split.</param>
    /// <param name="baseline">Per seed, the baseline's predictions on the same samples (same truths, same order).</param>
    /// <param name="metrics">Computes metric name → value from (predictions, truths).</param>
    /// <param name="resamples">Number of bootstrap resamples.</param>
    /// <param name="seed">Seed of the resampling generator.</param>
    /// <param name="level">Confidence level.</param>
    /// <exception cref="InvalidInputException">No seeds, different seed counts, or a seed whose two models were not tested on the same truths.</exception>
    public static IReadOnlyDictionary<string, ConfidenceInterval> MeanDifference(
        IReadOnlyList<SamplePredictions> candidate,
        IReadOnlyList<SamplePredictions> baseline,
        Func<float[], float[], IReadOnlyDictionary<string, double>> metrics,
        int resamples = DefaultResamples,
        int seed = 0,
        double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        SettingRules.ThrowIf("confidence level", SettingRules.ConfidenceLevel(nameof(level), level));
        CheckPaired(candidate, baseline);

        var random = new Random(seed);
        Dictionary<string, double[]>? statistics = null;
        for (int r = 0; r < resamples; r++)
        {
            Dictionary<string, double>? sum = null;
            for (int g = 0; g < candidate.Count; g++)
            {
                var (a, b, truth) = Draw(candidate[g], baseline[g], random);
                var ma = metrics(a, truth);
                var mb = metrics(b, truth);
                sum ??= ma.Keys.ToDictionary(k => k, _ => 0.0);
                foreach (var name in sum.Keys.ToList()) sum[name] += ma[name] - mb[name];
            }
            statistics ??= sum!.Keys.ToDictionary(k => k, _ => new double[resamples]);
            foreach (var (name, total) in sum!) statistics[name][r] = total / candidate.Count;
        }

        double alpha = 1 - level;
        return statistics!.ToDictionary(kv => kv.Key, kv =>
        {
            Array.Sort(kv.Value);
            return new ConfidenceInterval(Percentile(kv.Value, alpha / 2), Percentile(kv.Value, 1 - alpha / 2), level);
        });
    }

    /// <summary>The <paramref name="q"/>-quantile of sorted values, interpolating linearly between order statistics.</summary>
    internal static double Percentile(double[] sorted, double q)
    {
        double position = (sorted.Length - 1) * q;
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    private static (float[] Candidate, float[] Baseline, float[] Truth) Draw(SamplePredictions a, SamplePredictions b, Random random)
    {
        int n = a.Count;
        var pa = new float[n];
        var pb = new float[n];
        var t = new float[n];
        for (int i = 0; i < n; i++)
        {
            int k = random.Next(n);
            pa[i] = a.Predictions[k];
            pb[i] = b.Predictions[k];
            t[i] = a.Truths[k];
        }
        return (pa, pb, t);
    }

    private static void CheckPaired(IReadOnlyList<SamplePredictions> candidate, IReadOnlyList<SamplePredictions> baseline)
    {
        if (candidate.Count == 0) throw new InvalidInputException("paired bootstrap", "there are no seeds to resample.");
        if (candidate.Count != baseline.Count)
            throw new InvalidInputException("paired bootstrap", $"expected the same seeds for both models, got {candidate.Count} and {baseline.Count}.");
        for (int g = 0; g < candidate.Count; g++)
        {
            if (candidate[g].Count != baseline[g].Count)
                throw new InvalidInputException("paired bootstrap", $"seed {g}: the models were tested on {candidate[g].Count} and {baseline[g].Count} samples.");
            for (int i = 0; i < candidate[g].Count; i++)
                if (candidate[g].Truths[i] != baseline[g].Truths[i])
                    throw new InvalidInputException("paired bootstrap",
                        $"seed {g}, sample {i}: the truths differ ({candidate[g].Truths[i]} vs {baseline[g].Truths[i]}), so the predictions are not paired.");
        }
    }
}
