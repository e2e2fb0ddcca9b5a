using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Tests.Fusion;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

public class BatchValidationTests
{
    private static void ShouldReject(Func<LRCMT.Data.MultimodalBatch, LRCMT.Data.MultimodalBatch> corrupt, params string[] mentioned)
    {
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();
        var bad = corrupt(batch);

        var act = () => model.call(bad);

        act.Should().Throw<ShapeMismatchException>().Where(e => mentioned.All(m => e.Message.Contains(m)), string.Join(", ", mentioned));
    }

    [Fact]
    public void Acoustic_features_of_the_wrong_size_name_the_modality_and_both_shapes() =>
        ShouldReject(b => b with { Acoustic = randn(2, 7, 74) }, "acoustic", "[2, seq, 5]", "[2, 7, 74]");

    [Fact]
    public void A_visual_batch_of_another_size_than_the_text_is_rejected() =>
        ShouldReject(b => b with { Visual = randn(3, 5, ModelTestData.Visual), VisualMask = ones(3, 5, dtype: ScalarType.Bool) },
            "visual", "batch size", "[3, 5, 4]");

    [Fact]
    public void An_acoustic_mask_of_the_wrong_shape_is_rejected() =>
        ShouldReject(b => b with { AcousticMask = ones(2, 6, dtype: ScalarType.Bool) }, "acoustic mask", "[2, 7]", "[2, 6]");

    [Fact]
    public void A_text_mask_of_the_wrong_shape_is_rejected() =>
        ShouldReject(b => b with { AttentionMask = ones(2, 5, dtype: ScalarType.Int64) }, "text attention mask", "[2, 6]", "[2, 5]");

    [Fact]
    public void An_empty_visual_sequence_is_rejected() =>
        ShouldReject(b => b with { Visual = zeros(2, 0, ModelTestData.Visual), VisualMask = zeros(2, 0, dtype: ScalarType.Bool) },
            "visual", "empty", "[2, 0, 4]");

    [Fact]
    public void Empty_text_is_rejected() =>
        ShouldReject(b => b with { InputIds = zeros(2, 0, dtype: ScalarType.Int64), AttentionMask = zeros(2, 0, dtype: ScalarType.Int64) },
            "text", "[2, 0]");

    [Fact]
    public void Integer_acoustic_features_are_rejected_as_invalid_input()
    {
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();
        using var bad = batch with { Acoustic = batch.Acoustic.to(ScalarType.Int64) };

        var act = () => model.call(bad);

        act.Should().Throw<InvalidInputException>().Where(e => e.Message.Contains("acoustic") && e.Message.Contains("Int64"));
    }
}
