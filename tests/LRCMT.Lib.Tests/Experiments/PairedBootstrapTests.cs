using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using Xunit;

namespace LRCMT.Tests.Experiments;

public class PairedBootstrapTests
{
    // Two "seeds" with their own test splits; the candidate gets more signs right than the baseline.
    private static readonly float[] TruthA = [1.5f, -2f, 0.5f, -0.5f, 2.5f, -1f, 0f, 1f];
    private static readonly float[] CandidateA = [1.2f, -1.5f, 0.3f, 0.2f, 2f, -0.8f, 0.1f, -0.2f];
    private static readonly float[] BaselineA = [0.8f, 1f, -0.4f, 0.4f, 1.5f, 0.3f, 0.2f, -0.5f];
    private static readonly float[] TruthB = [-1f, 2f, -2.5f, 0.7f, 1.1f, -0.3f];
    private static readonly float[] CandidateB = [-0.9f, 1.6f, -2f, -0.1f, 1f, -0.2f];
    private static readonly float[] BaselineB = [0.5f, 1.4f, -1f, -0.6f, -0.3f, 0.4f];

    private static IReadOnlyDictionary<string, double> SignAccuracy(float[] predictions, float[] truths)
    {
        int hits = 0;
        for (int i = 0; i < truths.Length; i++) if ((predictions[i] >= 0) == (truths[i] >= 0)) hits++;
        return new Dictionary<string, double> { ["acc"] = (double)hits / truths.Length };
    }

    [Fact]
    public void Fixed_seed_bootstrap_equals_an_independent_computation_of_the_documented_procedure()
    {
        const int resamples = 500, seed = 17;
        var candidate = new[] { new SamplePredictions(CandidateA, TruthA), new SamplePredictions(CandidateB, TruthB) };
        var baseline = new[] { new SamplePredictions(BaselineA, TruthA), new SamplePredictions(BaselineB, TruthB) };

        var interval = PairedBootstrap.MeanDifference(candidate, baseline, SignAccuracy, resamples, seed)["acc"];

        // Independent computation: per-sample hit indicators, the same draws, counted directly.
        var random = new Random(seed);
        var splits = new[] { (TruthA, CandidateA, BaselineA), (TruthB, CandidateB, BaselineB) };
        var stats = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double total = 0;
            foreach (var (truth, a, b) in splits)
            {
                int gain = 0;
                for (int i = 0; i < truth.Length; i++)
                {
                    int k = random.Next(truth.Length);
                    bool hitA = (a[k] >= 0) == (truth[k] >= 0), hitB = (b[k] >= 0) == (truth[k] >= 0);
                    gain += (hitA ? 1 : 0) - (hitB ? 1 : 0);
                }
                total += (double)gain / truth.Length;
            }
            stats[r] = total / splits.Length;
        }
        Array.Sort(stats);
        double Quantile(double q) { double h = (resamples - 1) * q; int lo = (int)h; return stats[lo] + (h - lo) * (stats[lo + 1] - stats[lo]); }

        interval.Lower.Should().BeApproximately(Quantile(0.025), 1e-12);
        interval.Upper.Should().BeApproximately(Quantile(0.975), 1e-12);
        // Observed mean difference (6/8 − 3/8 + 5/6 − 2/6) / 2 = 0.4375 lies inside.
        interval.Lower.Should().BeLessThan(0.4375);
        interval.Upper.Should().BeGreaterThan(0.4375);
    }

    [Fact]
    public void A_candidate_right_on_every_sample_against_one_wrong_on_every_sample_differs_by_exactly_one()
    {
        float[] truth = [1f, -1f, 2f, -2f];
        var interval = PairedBootstrap.MeanDifference(
            [new SamplePredictions([1f, -1f, 1f, -1f], truth)], [new SamplePredictions([-1f, 1f, -1f, 1f], truth)],
            SignAccuracy, resamples: 50, seed: 3)["acc"];

        interval.Lower.Should().Be(1);
        interval.Upper.Should().Be(1);
    }

    [Fact]
    public void Identical_models_have_a_zero_width_interval_at_zero_for_every_mmsa_metric()
    {
        var predictions = new SamplePredictions(CandidateA, TruthA);
        var intervals = PairedBootstrap.MeanDifference([predictions], [predictions],
            (p, t) => MsaMetrics.Compute(MsaDataset.Mosi, p, t).Values, resamples: 20, seed: 1);

        intervals.Keys.Should().BeEquivalentTo(MsaMetrics.NamesFor(MsaDataset.Mosi));
        intervals.Values.Should().OnlyContain(i => i.Lower == 0 && i.Upper == 0);
    }

    [Fact]
    public void Predictions_on_different_samples_are_not_paired()
    {
        var a = new SamplePredictions(CandidateA, TruthA);
        var b = new SamplePredictions(BaselineB, TruthB);
        FluentActions.Invoking(() => PairedBootstrap.MeanDifference([a], [b], SignAccuracy))
            .Should().Throw<InvalidInputException>().WithMessage("*8 and 6 samples*");
        var shifted = new SamplePredictions(BaselineA, TruthA.Select(t => t + 1).ToArray());
        FluentActions.Invoking(() => PairedBootstrap.MeanDifference([a], [shifted], SignAccuracy))
            .Should().Throw<InvalidInputException>().WithMessage("*truths differ*");
    }
}
