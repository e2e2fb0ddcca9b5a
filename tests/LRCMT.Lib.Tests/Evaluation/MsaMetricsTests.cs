using System.Text.Json;
using FluentAssertions;
using LRCMT.Evaluation;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Evaluation;

public class MsaMetricsTests
{
    public static TheoryData<string> FixtureCases() => new("MOSI", "SIMS");

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Every_metric_equals_mmsa_metricsTop_within_1e9(string dataset)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Metrics));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("dataset").GetString() == dataset).ToList();
        cases.Should().NotBeEmpty();
        foreach (var c in cases)
        {
            var pred = c.GetProperty("pred").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            var truth = c.GetProperty("truth").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            var kind = dataset == "SIMS" ? MsaDataset.Sims : MsaDataset.Mosi;

            var results = MsaMetrics.Compute(kind, pred, truth);

            var expected = c.GetProperty("expected").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            results.Values.Keys.Should().BeEquivalentTo(expected.Keys);
            MsaMetrics.NamesFor(kind).Should().Equal(expected.Keys);
            foreach (var (name, value) in expected)
            {
                results[name].Should().BeApproximately(value, 1e-9, $"{dataset} {name}");
                TestContext.Current.TestOutputHelper?.WriteLine($"{dataset} {name}: |ours - MMSA| = {Math.Abs(results[name] - value):E2}");
            }
            results.Undefined.Should().BeEmpty();
        }
    }

    [Fact]
    public void Rounding_is_half_to_even_like_numpy()
    {
        // round(0.5) = 0, round(1.5) = 2, round(2.5) = 2, round(-0.5) = -0: each pair lands in the same class.
        float[] pred = [0.5f, 1.5f, 2.5f, -0.5f];
        float[] truth = [0f, 2f, 2f, 0f];

        MsaMetrics.Compute(MsaDataset.Mosi, pred, truth)[MsaMetricNames.MultAcc7].Should().Be(1.0);
    }

    [Fact]
    public void Constant_predictions_report_corr_as_undefined_zero_not_nan()
    {
        var results = MsaMetrics.Compute(MsaDataset.Mosei, [1f, 1f, 1f], [-1f, 0.5f, 2f]);

        results[MsaMetricNames.Corr].Should().Be(0);
        results.Undefined.Should().ContainKey(MsaMetricNames.Corr);
        results.Values.Values.Should().OnlyContain(v => double.IsFinite(v));
    }

    [Fact]
    public void All_zero_truths_report_non0_metrics_as_undefined_zero()
    {
        var results = MsaMetrics.Compute(MsaDataset.Mosi, [0.3f, -0.2f], [0f, -0f]);

        results.Undefined.Keys.Should().BeEquivalentTo(MsaMetricNames.Non0Acc2, MsaMetricNames.Non0F1, MsaMetricNames.Corr);
        results[MsaMetricNames.Non0Acc2].Should().Be(0);
        // Has0: truths are both ">= 0", predictions are [true, false] → accuracy 1/2.
        results[MsaMetricNames.Has0Acc2].Should().Be(0.5);
    }

    [Fact]
    public void Empty_or_mismatched_or_nan_inputs_throw_naming_the_problem()
    {
        var empty = () => MsaMetrics.Compute(MsaDataset.Mosi, [], []);
        var mismatched = () => MsaMetrics.Compute(MsaDataset.Mosi, [1f], [1f, 2f]);
        var nan = () => MsaMetrics.Compute(MsaDataset.Sims, [1f, float.NaN], [1f, 2f]);

        empty.Should().Throw<ArgumentException>().WithMessage("*empty*");
        mismatched.Should().Throw<ArgumentException>().WithMessage("*1 predictions and 2 truths*");
        nan.Should().Throw<ArgumentException>().WithMessage("*predictions[1]*NaN*");
    }

    [Fact]
    public void Sims_bins_compare_in_float32_so_0_1_is_neutral()
    {
        // float32(0.1) lies in (-0.1, 0.1] only when the edge is float32 too; in float64 it would be "positive".
        var results = MsaMetrics.Compute(MsaDataset.Sims, [0.1f, 0.05f], [0.0f, 0.1f]);

        results[MsaMetricNames.MultAcc3].Should().Be(1.0);
    }
}
