using FluentAssertions;
using LRCMT.LowRank;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

/// <summary>
/// An adapter's down-projection on a half-precision base keeps the half input for backward (HalfInputProjection) but
/// must compute what lora_A(x.to(float32)) computes: the same output and the same gradients for x and A.
/// </summary>
public sealed class HalfInputProjectionTests
{
    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Output_and_gradients_equal_the_plain_upcast_projection(ScalarType half)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var down = nn.Linear(16, 4, hasBias: false);
        var x = randn(2, 5, 16).to(half).requires_grad_();
        var upstream = randn(2, 5, 4);

        var plain = down.call(x.to(ScalarType.Float32));
        plain.backward([upstream]);
        var (plainX, plainA) = (x.grad!.clone(), down.weight!.grad!.clone());
        x.grad!.zero_();
        down.weight!.grad!.zero_();

        var fused = HalfInputProjection.Project(down, x);
        fused.backward([upstream]);

        fused.dtype.Should().Be(ScalarType.Float32);
        fused.allclose(plain, rtol: 0, atol: 1e-6).Should().BeTrue();
        x.grad!.dtype.Should().Be(half);
        x.grad!.to(ScalarType.Float32).allclose(plainX.to(ScalarType.Float32), rtol: 0, atol: 1e-6).Should().BeTrue();
        down.weight!.grad!.allclose(plainA, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void A_float32_input_is_projected_by_the_module_as_before()
    {
        using var scope = NewDisposeScope();
        var down = nn.Linear(8, 2, hasBias: false);
        var x = randn(3, 8, requires_grad: true);

        var y = HalfInputProjection.Project(down, x);

        y.allclose(down.call(x)).Should().BeTrue();
    }

    [Fact]
    public void An_input_without_gradient_still_gives_the_adapter_its_gradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var down = nn.Linear(8, 2, hasBias: false);
        var x = randn(3, 8).to(ScalarType.BFloat16);

        HalfInputProjection.Project(down, x).sum().backward();

        var expected = x.to(ScalarType.Float32).sum(dim: 0L).unsqueeze(0).expand(2, 8);
        down.weight!.grad!.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();
    }
}
