using FluentAssertions;
using LRCMT.Fusion;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class SelfAttendTests
{
    [Fact]
    public void Each_layer_attends_to_its_own_input_where_attend_keeps_the_first_input_as_memory()
    {
        manual_seed(5);
        using var oneLayer = new CrossModalEncoder(FusionTestData.Tiny(layers: 1));
        using var twoLayers = new CrossModalEncoder(FusionTestData.Tiny(layers: 2));
        var mask = FusionTestData.Mask(5, 5, 3);
        var x = new MaskedSequence(randn(2, 5, 8), mask);

        // One layer: the memory is the embedded input either way.
        (oneLayer.SelfAttend(x) - oneLayer.Attend(x, x)).abs().max().item<float>().Should().BeLessThan(1e-6f);
        // Two layers: the second layer's keys are the first layer's output, not the input.
        (twoLayers.SelfAttend(x) - twoLayers.Attend(x, x)).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }

    [Fact]
    public void Padded_positions_do_not_change_the_real_ones()
    {
        manual_seed(6);
        using var encoder = new CrossModalEncoder(FusionTestData.Tiny(layers: 2));
        var mask = FusionTestData.Mask(5, 5, 3);
        var values = randn(2, 5, 8);

        using var clean = encoder.SelfAttend(new MaskedSequence(values, mask));
        using var poisoned = encoder.SelfAttend(new MaskedSequence(FusionTestData.WithPadding(values, mask, 1e4), mask));

        (clean[1, ..3] - poisoned[1, ..3]).abs().max().item<float>().Should().BeLessThan(1e-6f);
    }
}
