using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Evaluation;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Evaluation;

public class MsaMetricsShapeTests
{
    [Fact]
    public void A_2x3_prediction_tensor_against_3x2_truths_is_refused_not_flattened()
    {
        using var predictions = randn(2, 3);
        using var truths = randn(3, 2);

        var act = () => MsaMetrics.Compute(MsaDataset.Mosi, predictions, truths);

        act.Should().Throw<ShapeMismatchException>().Which.Actual.Should().Equal(2, 3);
    }

    [Fact]
    public void Different_sample_counts_are_refused()
    {
        using var predictions = randn(4);
        using var truths = randn(5, 1);

        var act = () => MsaMetrics.Compute(MsaDataset.Mosi, predictions, truths);

        act.Should().Throw<ShapeMismatchException>().WithMessage("*truths*[5, 1]*");
    }

    [Fact]
    public void Column_and_vector_forms_of_the_same_values_give_the_same_metrics()
    {
        using var predictions = tensor(new[] { 0.5f, -1.2f, 2.0f, -0.1f });
        using var truths = tensor(new[] { 1f, -1f, 1.5f, 0.3f });

        var vector = MsaMetrics.Compute(MsaDataset.Mosi, predictions, truths);
        var column = MsaMetrics.Compute(MsaDataset.Mosi, predictions.unsqueeze(1), truths.unsqueeze(1));

        column.Values.Should().Equal(vector.Values);
    }
}
