using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Experiments;
using Xunit;

namespace LRCMT.Tests.Experiments;

public class PairedComparisonTests
{
    private static SeedRun Run(int seed, double acc, double mae) =>
        new(seed, new Dictionary<string, double> { ["Has0_acc_2"] = acc, ["MAE"] = mae });

    [Fact]
    public void Differences_are_paired_by_seed_and_the_claim_follows_the_t_interval()
    {
        // Baseline listed in another order and with an extra seed: pairing is by seed, not position.
        var candidate = new[] { Run(1, 0.80, 0.90), Run(2, 0.82, 0.95), Run(3, 0.79, 0.92) };
        var baseline = new[] { Run(3, 0.70, 1.00), Run(9, 0.10, 9.00), Run(1, 0.70, 1.00), Run(2, 0.71, 1.10) };

        var comparisons = PairedComparison.Compare("Lrcmt", candidate, "TextOnly", baseline, ["Has0_acc_2", "MAE"]);

        var acc = comparisons[0];
        acc.Seeds.Should().Equal(1, 2, 3);
        acc.Differences.Should().Equal(new[] { 0.10, 0.11, 0.09 }, (x, y) => Math.Abs(x - y) < 1e-12);
        acc.MeanDifference.Should().BeApproximately(0.10, 1e-12);
        // s = 0.01, s/√3 = 0.0057735, t(0.975, 2) = 4.302653 → half-width 0.024841.
        acc.TInterval!.Lower.Should().BeApproximately(0.10 - 0.024841, 1e-5);
        acc.SeedsFavouringCandidate.Should().Be(3);
        acc.Conclusion.Should().Be(ComparisonConclusion.CandidateBetter);
        acc.BootstrapInterval.Should().BeNull("these runs carry no per-sample predictions");

        var mae = comparisons[1];
        mae.HigherIsBetter.Should().BeFalse();
        mae.Differences.Should().OnlyContain(d => d < 0);
        mae.SeedsFavouringCandidate.Should().Be(3);
        mae.Conclusion.Should().Be(ComparisonConclusion.CandidateBetter, "a lower MAE is better");
    }

    [Fact]
    public void Mixed_signs_are_not_shown_and_a_consistent_loss_is_the_baselines_win()
    {
        var mixed = PairedComparison.Compare("A", [Run(1, 0.80, 1), Run(2, 0.70, 1)], "B", [Run(1, 0.75, 1), Run(2, 0.75, 1)], ["Has0_acc_2"])[0];
        mixed.Conclusion.Should().Be(ComparisonConclusion.NotShown);
        mixed.SeedsFavouringCandidate.Should().Be(1);

        var loss = PairedComparison.Compare("A", [Run(1, 0.60, 1), Run(2, 0.61, 1), Run(3, 0.59, 1)],
            "B", [Run(1, 0.70, 1), Run(2, 0.70, 1), Run(3, 0.70, 1)], ["Has0_acc_2"])[0];
        loss.Conclusion.Should().Be(ComparisonConclusion.BaselineBetter);
        loss.SeedsFavouringCandidate.Should().Be(0);

        var single = PairedComparison.Compare("A", [Run(1, 0.9, 1)], "B", [Run(1, 0.1, 1)], ["Has0_acc_2"])[0];
        single.TInterval.Should().BeNull();
        single.Conclusion.Should().Be(ComparisonConclusion.NotShown, "one seed gives no interval over seeds");
    }

    [Fact]
    public void The_bootstrap_interval_is_added_when_every_run_has_predictions()
    {
        float[] truth = [1f, -1f, 2f, -2f, 0.5f];
        SeedRun WithPredictions(int seed, float[] p) => new(seed,
            LRCMT.Evaluation.MsaMetrics.Compute(LRCMT.Evaluation.MsaDataset.Mosi, p, truth).Values, null, new SamplePredictions(p, truth));
        var candidate = new[] { WithPredictions(1, [1f, -1f, 1f, -1f, 1f]), WithPredictions(2, [1f, -1f, 1f, 1f, 1f]) };
        var baseline = new[] { WithPredictions(1, [-1f, 1f, 1f, -1f, 1f]), WithPredictions(2, [-1f, -1f, -1f, 1f, 1f]) };

        var acc = PairedComparison.Compare("A", candidate, "B", baseline, ["Has0_acc_2"],
            (p, t) => LRCMT.Evaluation.MsaMetrics.Compute(LRCMT.Evaluation.MsaDataset.Mosi, p, t).Values, resamples: 200)[0];

        acc.BootstrapInterval.Should().NotBeNull();
        acc.BootstrapInterval!.Lower.Should().BeLessThanOrEqualTo(acc.MeanDifference);
        acc.BootstrapInterval.Upper.Should().BeGreaterThanOrEqualTo(acc.MeanDifference);
    }

    [Fact]
    public void No_common_seed_or_a_missing_metric_is_refused()
    {
        FluentActions.Invoking(() => PairedComparison.Compare("A", [Run(1, 0.8, 1)], "B", [Run(2, 0.7, 1)], ["MAE"]))
            .Should().Throw<InvalidInputException>().WithMessage("*no seed in common*");
        FluentActions.Invoking(() => PairedComparison.Compare("A", [Run(1, 0.8, 1)], "B", [Run(1, 0.7, 1)], ["Corr"]))
            .Should().Throw<InvalidInputException>().WithMessage("*'Corr'*");
    }
}
