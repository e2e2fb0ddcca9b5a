using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Experiments;
using Xunit;

namespace LRCMT.Tests.Experiments;

public class StatisticsTests
{
    [Fact]
    public void A_summary_gives_mean_sample_std_min_max_worked_by_hand()
    {
        // mean 0.75; deviations 0.05, -0.05, 0 → Σd² = 0.005; / (n − 1 = 2) = 0.0025 → s = 0.05 (ddof=0 would give 0.0408).
        var summary = MetricSummary.Of("Has0_acc_2", [0.80, 0.70, 0.75]);

        summary.Mean.Should().BeApproximately(0.75, 1e-12);
        summary.StandardDeviation.Should().BeApproximately(0.05, 1e-12);
        summary.Min.Should().Be(0.70);
        summary.Max.Should().Be(0.80);
        summary.Spread.Should().BeApproximately(0.10, 1e-12);
        summary.Count.Should().Be(3);
    }

    [Fact]
    public void One_seed_has_no_standard_deviation_and_no_t_interval()
    {
        MetricSummary.Of("MAE", [0.9]).StandardDeviation.Should().BeNull();
        PairedTInterval.Compute([0.1]).Should().BeNull();
    }

    [Fact]
    public void Summaries_of_runs_keep_the_metric_order_and_refuse_runs_with_other_metrics()
    {
        var runs = new IReadOnlyDictionary<string, double>[]
        {
            new Dictionary<string, double> { ["Has0_acc_2"] = 0.8, ["MAE"] = 1.0 },
            new Dictionary<string, double> { ["Has0_acc_2"] = 0.6, ["MAE"] = 1.2 },
        };
        var summaries = MetricSummary.OfRuns(runs);
        summaries.Select(s => s.Metric).Should().Equal("Has0_acc_2", "MAE");
        summaries[1].Mean.Should().BeApproximately(1.1, 1e-12);

        var odd = new IReadOnlyDictionary<string, double>[] { runs[0], new Dictionary<string, double> { ["Has0_acc_2"] = 0.6 } };
        FluentActions.Invoking(() => MetricSummary.OfRuns(odd)).Should().Throw<InvalidInputException>().WithMessage("*missing: [MAE]*");
        FluentActions.Invoking(() => MetricSummary.Of("MAE", [double.NaN])).Should().Throw<InvalidInputException>();
        FluentActions.Invoking(() => MetricSummary.Of("MAE", [])).Should().Throw<InvalidInputException>();
    }

    [Theory]
    // Two-sided 95% critical values from a printed t-table.
    [InlineData(1, 12.706)]
    [InlineData(2, 4.303)]
    [InlineData(4, 2.776)]
    [InlineData(9, 2.262)]
    [InlineData(30, 2.042)]
    public void T_critical_values_match_a_t_table(int degreesOfFreedom, double table)
    {
        StudentT.TwoSidedCritical(0.95, degreesOfFreedom).Should().BeApproximately(table, 5e-4);
    }

    [Fact]
    public void T_cdf_matches_closed_forms()
    {
        StudentT.Cdf(0, 7).Should().Be(0.5);
        StudentT.Cdf(1, 1).Should().BeApproximately(0.75, 1e-12);                       // Cauchy: 1/2 + atan(1)/π
        StudentT.Cdf(Math.Sqrt(2), 2).Should().BeApproximately(0.5 + Math.Sqrt(2) / 4, 1e-12); // ν = 2: 1/2 + t / (2√(2 + t²))
        StudentT.Cdf(-1, 1).Should().BeApproximately(0.25, 1e-12);
        StudentT.Quantile(0.95, 10).Should().BeApproximately(1.812, 5e-4);              // one-sided table value
        StudentT.Quantile(0.05, 10).Should().BeApproximately(-1.812, 5e-4);
        StudentT.Cdf(StudentT.Quantile(0.975, 5), 5).Should().BeApproximately(0.975, 1e-10);
    }

    [Fact]
    public void Paired_t_interval_of_one_to_five_worked_by_hand()
    {
        // mean 3, s = √2.5 = 1.5811, s/√5 = 0.70711, t(0.975, 4) = 2.776445 → half-width 1.963243.
        var interval = PairedTInterval.Compute([1, 2, 3, 4, 5])!;

        interval.Lower.Should().BeApproximately(3 - 1.963243, 1e-5);
        interval.Upper.Should().BeApproximately(3 + 1.963243, 1e-5);
        interval.Level.Should().Be(0.95);
        interval.ExcludesZero.Should().BeTrue();
    }

    [Fact]
    public void Two_seeds_give_a_wide_t_interval_that_includes_zero()
    {
        // mean 0.03, s = 0.014142, s/√2 = 0.01, t(0.975, 1) = 12.7062 → [-0.0971, 0.1571].
        var interval = PairedTInterval.Compute([0.02, 0.04])!;

        interval.Lower.Should().BeApproximately(0.03 - 0.127062, 1e-5);
        interval.Upper.Should().BeApproximately(0.03 + 0.127062, 1e-5);
        interval.ExcludesZero.Should().BeFalse();
    }

    [Fact]
    public void Interval_margin_and_zero_checks()
    {
        new ConfidenceInterval(-0.01, 0.012, 0.95).WithinMargin(0.015).Should().BeTrue();
        new ConfidenceInterval(-0.01, 0.02, 0.95).WithinMargin(0.015).Should().BeFalse();
        new ConfidenceInterval(-0.03, -0.01, 0.95).ExcludesZero.Should().BeTrue();
        FluentActions.Invoking(() => new ConfidenceInterval(1, 0, 0.95)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
