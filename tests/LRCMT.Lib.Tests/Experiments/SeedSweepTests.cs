using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Experiments;
using Xunit;

namespace LRCMT.Tests.Experiments;

public class SeedSweepTests
{
    [Theory]
    [InlineData("5", new[] { 1, 2, 3, 4, 5 })]
    [InlineData("1,2,3", new[] { 1, 2, 3 })]
    [InlineData(" 4, 9 ,2", new[] { 4, 9, 2 })]
    [InlineData("7,", new[] { 7 })]
    public void Seed_lists_are_a_count_or_explicit_seeds(string text, int[] expected)
    {
        SeedList.Parse(text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("0", "*count*")]
    [InlineData("abc", "*'abc' is not an integer*")]
    [InlineData("1,1", "*listed twice*")]
    [InlineData("1,-2", "*0 or more*")]
    [InlineData(",", "*names no seed*")]
    public void Bad_seed_lists_are_refused_with_the_reason(string text, string message)
    {
        FluentActions.Invoking(() => SeedList.Parse(text)).Should().Throw<InvalidConfigurationException>().WithMessage(message);
    }

    [Fact]
    public void A_sweep_runs_each_seed_in_order_and_summarises_the_test_metrics()
    {
        var called = new List<int>();
        var result = SeedSweep.Run([3, 1, 2], seed =>
        {
            called.Add(seed);
            return new SeedRun(seed, new Dictionary<string, double> { ["Has0_acc_2"] = seed / 10.0 });
        });

        called.Should().Equal(3, 1, 2);
        result.Interrupted.Should().BeFalse();
        result.Test.Single().Mean.Should().BeApproximately(0.2, 1e-12);
        result.Test.Single().Values.Should().Equal(new[] { 0.3, 0.1, 0.2 }, (x, y) => Math.Abs(x - y) < 1e-12);
    }

    [Fact]
    public void An_interrupted_seed_stops_the_sweep_and_keeps_the_finished_ones()
    {
        var result = SeedSweep.Run([1, 2, 3], seed => seed == 2 ? null : new SeedRun(seed, new Dictionary<string, double> { ["MAE"] = 1 }));

        result.Interrupted.Should().BeTrue();
        result.Runs.Select(r => r.Seed).Should().Equal(1);
    }

    [Fact]
    public void The_grid_point_with_the_best_mean_validation_metric_is_chosen()
    {
        SeedRun Valid(int seed, double acc, double mae) => new(seed, new Dictionary<string, double>(),
            new Dictionary<string, double> { ["Has0_acc_2"] = acc, ["MAE"] = mae });
        IReadOnlyList<IReadOnlyList<SeedRun>> grid =
        [
            [Valid(1, 0.60, 1.0), Valid(2, 0.70, 1.2)], // mean acc 0.65, MAE 1.1
            [Valid(1, 0.72, 1.3), Valid(2, 0.64, 1.3)], // mean acc 0.68, MAE 1.3
            [Valid(1, 0.68, 0.9), Valid(2, 0.68, 0.9)], // mean acc 0.68 (tie: the first wins), MAE 0.9
        ];

        var byAccuracy = ValidationGrid.Choose(grid, "Has0_acc_2");
        byAccuracy.Index.Should().Be(1);
        byAccuracy.MeanValidation.Should().Equal(new[] { 0.65, 0.68, 0.68 }, (x, y) => Math.Abs(x - y) < 1e-12);
        ValidationGrid.Choose(grid, "MAE").Index.Should().Be(2);
        FluentActions.Invoking(() => ValidationGrid.Choose(grid, "Corr")).Should().Throw<InvalidInputException>().WithMessage("*'Corr'*");
    }
}
