using TorchSharp;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Quantization;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Quantization;

public sealed class Int8WeightsTests
{
    [Fact]
    public void Every_weight_is_within_half_a_step_of_its_row_and_the_row_maximum_is_kept()
    {
        manual_seed(3);
        // Rows of very different magnitudes: one scale per row must serve each row at its own size.
        using var weight = randn(6, 40) * tensor(new float[] { 1e-3f, 0.05f, 1f, 20f, 300f, 0.7f }).unsqueeze(1);
        var (codes, scales) = Int8Weights.Quantize(weight);
        using var _ = codes;
        using var __ = scales;
        using var restored = Int8Weights.Dequantize(codes, scales);

        codes.dtype.Should().Be(ScalarType.Int8);
        using var rowMax = weight.abs().amax([1]);
        using var error = (restored - weight).abs().amax([1]);
        for (int row = 0; row < 6; row++)
        {
            float bound = rowMax[row].item<float>() / 254f;
            error[row].item<float>().Should().BeLessThanOrEqualTo(bound * (1 + 1e-5f), $"row {row} is off by at most half a step");
            error[row].item<float>().Should().BeGreaterThan(bound / 100, $"row {row} really is rounded to 255 levels");
        }
        using var codeRange = codes.abs().amax([1]);
        codeRange.to(ScalarType.Int32).data<int>().ToArray().Should().OnlyContain(c => c == Int8Weights.MaxCode, "each row's largest weight maps to ±127");
    }

    [Fact]
    public void An_all_zero_row_stays_zero()
    {
        using var weight = zeros(2, 5);
        weight[1] = tensor(new float[] { 1, -2, 3, -4, 5 });
        var (codes, scales) = Int8Weights.Quantize(weight);
        using var restored = Int8Weights.Dequantize(codes, scales);

        restored[0].abs().max().item<float>().Should().Be(0);
        restored[1].allclose(weight[1], rtol: 0, atol: 5f / 254).Should().BeTrue();
    }

    [Fact]
    public void Non_finite_or_non_matrix_weights_are_typed_errors()
    {
        using Scalar nanValue = float.NaN; // held: a Scalar made inline may be finalised while libtorch reads it
        using var nan = full(2, 2, nanValue);
        ((Action)(() => Int8Weights.Quantize(nan))).Should().Throw<InvalidInputException>().WithMessage("*NaN*");
        using var vector = ones(4);
        ((Action)(() => Int8Weights.Quantize(vector))).Should().Throw<ShapeMismatchException>();
        using var integers = ones(2, 2, ScalarType.Int32);
        ((Action)(() => Int8Weights.Quantize(integers))).Should().Throw<InvalidInputException>().WithMessage("*floating point*");
    }
}
