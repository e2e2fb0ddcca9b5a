using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class CrossModalBlockTests
{
    [Fact]
    public void Changing_padded_source_positions_does_not_change_the_output()
    {
        manual_seed(3);
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(2, 3, 8);
        using var source = randn(2, 6, 8);
        using var mask = FusionTestData.Mask(6, 4, 1);
        using var otherPadding = FusionTestData.WithPadding(source, mask, 1e4);

        using var before = block.call(target, source, mask);
        using var after = block.call(target, otherPadding, mask);

        after.allclose(before, atol: 1e-5).Should().BeTrue();
        using var unmasked = block.call(target, otherPadding, null);
        unmasked.allclose(before, atol: 1e-3).Should().BeFalse("without the mask the padding is attended to");
    }

    [Fact]
    public void Target_and_source_of_different_lengths_give_one_output_per_target_position()
    {
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(3, 2, 8);
        using var source = randn(3, 7, 8);

        using var output = block.call(target, source, null);

        output.shape.Should().Equal(3, 2, 8);
    }

    [Fact]
    public void A_fully_masked_source_yields_finite_output_that_ignores_the_source()
    {
        manual_seed(4);
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(1, 3, 8);
        using var source = randn(1, 4, 8);
        using var noise = randn(1, 4, 8);
        using var empty = zeros(1, 4, dtype: ScalarType.Bool);

        using var a = block.call(target, source, empty);
        using var b = block.call(target, noise, empty);

        a.isfinite().all().item<bool>().Should().BeTrue();
        a.allclose(b).Should().BeTrue();
    }

    [Fact]
    public void Gradients_reach_every_parameter_of_the_block()
    {
        manual_seed(5);
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(2, 3, 8);
        using var source = randn(2, 5, 8);
        using var mask = FusionTestData.Mask(5, 5, 3);

        using var output = block.call(target, source, mask);
        using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
        using var loss = output.pow(two).mean();
        loss.backward();

        foreach (var (name, parameter) in block.named_parameters())
        {
            parameter.grad.Should().NotBeNull(name);
            parameter.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, name);
        }
    }

    [Fact]
    public void Dropout_is_active_in_training_and_off_in_eval()
    {
        manual_seed(6);
        using var block = new CrossModalBlock(FusionTestData.Tiny() with { ResidualDropout = 0.5 });
        using var target = randn(2, 3, 8);
        using var source = randn(2, 5, 8);

        block.eval();
        using var e1 = block.call(target, source, null);
        using var e2 = block.call(target, source, null);
        block.train();
        using var t1 = block.call(target, source, null);

        e1.allclose(e2).Should().BeTrue();
        t1.allclose(e1).Should().BeFalse();
    }

    [Fact]
    public void A_source_of_the_wrong_width_is_rejected_with_its_shape()
    {
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(2, 3, 8);
        using var source = randn(2, 5, 6);

        var act = () => block.call(target, source, null);

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("source") && e.Message.Contains("[2, 5, 6]"));
    }

    [Fact]
    public void A_mask_that_does_not_match_the_source_is_rejected()
    {
        using var block = new CrossModalBlock(FusionTestData.Tiny());
        using var target = randn(2, 3, 8);
        using var source = randn(2, 5, 8);
        using var mask = ones(2, 4, dtype: ScalarType.Bool);

        var act = () => block.call(target, source, mask);

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("mask") && e.Message.Contains("[2, 4]"));
    }

    [Fact]
    public void Settings_with_several_problems_report_all_of_them()
    {
        var act = () => new CrossModalBlock(new CrossModalSettings { Width = 10, Heads = 3, Layers = 0, AttentionDropout = 1.5 });

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Select(p => p.Path).Should().BeEquivalentTo(["Heads", "Layers", "AttentionDropout"]);
    }
}
