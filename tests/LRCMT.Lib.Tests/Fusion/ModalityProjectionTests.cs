using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class ModalityProjectionTests
{
    [Fact]
    public void Kernel_one_is_a_per_frame_linear_map_without_bias()
    {
        manual_seed(9);
        using var projection = new ModalityProjection("acoustic", inputFeatures: 5, width: 8);
        using var features = randn(2, 4, 5);

        using var output = projection.call(features, null);

        var weight = projection.named_parameters().Single().parameter; // conv.weight [8, 5, 1], no bias
        using var expected = features.matmul(weight.squeeze(2).t());
        output.allclose(expected, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Wider_kernels_keep_the_length_and_padding_never_leaks_into_real_frames()
    {
        manual_seed(10);
        using var projection = new ModalityProjection("visual", inputFeatures: 3, width: 8, kernelSize: 3);
        using var features = randn(2, 5, 3);
        using var mask = FusionTestData.Mask(5, 3, 5);
        using var infinitePadding = FusionTestData.WithPadding(features, mask, double.NegativeInfinity);

        using var clean = projection.call(features, mask);
        using var dirty = projection.call(infinitePadding, mask);

        clean.shape.Should().Equal(2, 5, 8);
        dirty.isfinite().all().item<bool>().Should().BeTrue();
        dirty.allclose(clean, atol: 1e-6).Should().BeTrue();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void The_projection_is_libtorchs_same_padded_conv1d_of_its_weight(long kernel)
    {
        // The forward never calls libtorch's convolution (its NNPACK probe warns on every call on some CPUs); the
        // reference here does, on the same weight in the same [width, in, k] layout the state dict keeps.
        manual_seed(11);
        using var projection = new ModalityProjection("visual", inputFeatures: 4, width: 6, kernelSize: kernel);
        using var features = randn(3, 7, 4);
        var weight = projection.named_parameters().Single();
        weight.name.Should().Be("conv.weight");
        weight.parameter.shape.Should().Equal(6, 4, kernel);

        using var output = projection.call(features, null);

        using var expected = nn.functional.conv1d(features.transpose(1, 2), weight.parameter, padding: kernel / 2).transpose(1, 2);
        output.shape.Should().Equal(3, 7, 6);
        output.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Features_of_the_wrong_size_are_rejected_naming_the_modality_and_shape()
    {
        using var projection = new ModalityProjection("acoustic", inputFeatures: 5, width: 8);
        using var features = randn(2, 4, 74);

        var act = () => projection.call(features, null);

        act.Should().Throw<ShapeMismatchException>()
            .Where(e => e.Message.Contains("acoustic") && e.Message.Contains("[2, 4, 74]") && e.Message.Contains("5]"));
    }

    [Fact]
    public void An_even_kernel_is_rejected_because_it_would_change_the_length()
    {
        var act = () => new ModalityProjection("visual", inputFeatures: 3, width: 8, kernelSize: 2);

        act.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("odd"));
    }
}
