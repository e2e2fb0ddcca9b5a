using FluentAssertions;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class CrossModalEncoderTests
{
    [Fact]
    public void The_stack_holds_the_configured_number_of_layers_under_pytorch_style_names()
    {
        using var encoder = new CrossModalEncoder(FusionTestData.Tiny(layers: 3));

        var names = encoder.named_parameters().Select(p => p.name).ToList();

        names.Should().Contain("layers.2.cross_attn.q_proj.weight").And.Contain("layer_norm.weight");
        names.Should().NotContain(n => n.StartsWith("layers.3."));
    }

    [Fact]
    public void Padded_source_positions_do_not_change_the_output_through_all_layers()
    {
        manual_seed(7);
        using var encoder = new CrossModalEncoder(FusionTestData.Tiny(layers: 3));
        using var target = randn(2, 4, 8);
        using var source = randn(2, 6, 8);
        using var mask = FusionTestData.Mask(6, 2, 6);
        using var otherPadding = FusionTestData.WithPadding(source, mask, -7);

        using var before = encoder.call(target, source, mask);
        using var after = encoder.call(target, otherPadding, mask);

        after.allclose(before, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Positions_make_the_output_depend_on_the_order_of_the_target()
    {
        manual_seed(8);
        using var withPositions = new CrossModalEncoder(FusionTestData.Tiny());
        using var target = randn(1, 4, 8);
        using var source = randn(1, 5, 8);
        using var order = tensor(new long[] { 3, 2, 1, 0 });
        using var reversed = target.index_select(1, order);

        using var forward = withPositions.call(target, source, null);
        using var backward = withPositions.call(reversed, source, null).index_select(1, order);

        // A position-free cross-attention stack is permutation-equivariant in the target; positions break that.
        backward.allclose(forward, atol: 1e-4).Should().BeFalse();
        using var withoutPositions = new CrossModalEncoder(FusionTestData.Tiny(positions: false));
        using var plain = withoutPositions.call(target, source, null);
        using var plainReversed = withoutPositions.call(reversed, source, null).index_select(1, order);
        plainReversed.allclose(plain, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Sinusoidal_table_matches_the_closed_form()
    {
        const int width = 7;
        using var table = SinusoidalPositions.Table(5, width, CPU, ScalarType.Float64);

        for (var p = 0; p < 5; p++)
        for (var c = 0; c < width; c++)
        {
            var frequency = Math.Pow(10000, -(2.0 * (c / 2)) / width);
            var expected = c % 2 == 0 ? Math.Sin(p * frequency) : Math.Cos(p * frequency);
            table[p, c].item<double>().Should().BeApproximately(expected, 1e-5, $"position {p}, channel {c}");
        }
    }
}
