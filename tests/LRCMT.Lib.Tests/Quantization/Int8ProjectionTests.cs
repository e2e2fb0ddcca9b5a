using FluentAssertions;
using LRCMT.Quantization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Quantization;

/// <summary>
/// The int8 projection's forward and backward against the same projection written out with the dequantised weight
/// (float32, so both differ only by float32 rounding), including the layout that attention gives its gradient: the
/// output split into heads, so the gradient arriving in backward is not contiguous.
/// </summary>
public sealed class Int8ProjectionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_input_gradient_match_the_dequantised_weight(bool splitIntoHeads)
    {
        manual_seed(21);
        using var source = nn.Linear(8, 12);
        using var layer = new QuantizedLinear(source);
        using var x = randn(2, 5, 8, requires_grad: true);
        using var reference = x.detach().clone().requires_grad_(true);
        using var target = randn(2, 5, 12);
        using var weight = Int8Weights.Dequantize(layer.Codes, layer.Scales);

        Tensor Loss(Tensor output)
        {
            // [2, 5, 12] → [2, 3 heads, 5, 4]: what BertSelfAttention does to q, k and v.
            var shaped = splitIntoHeads ? output.view(2, 5, 3, 4).permute(0, 2, 1, 3) : output;
            var weights = splitIntoHeads ? target.view(2, 5, 3, 4).permute(0, 2, 1, 3) : target;
            return (shaped * weights).sum();
        }

        using var output = layer.call(x);
        using var expected = nn.functional.linear(reference, weight, layer.Bias!.detach());
        Loss(output).backward();
        Loss(expected).backward();

        output.allclose(expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        x.grad!.shape.Should().Equal(2, 5, 8);
        x.grad!.allclose(reference.grad!, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }
}
