using FluentAssertions;
using LRCMT.Regularization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Regularization;

public sealed class MaskDropoutTests
{
    private static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.allclose(b, 0, 0, equal_nan: true);

    // libtorch's own dropout and MaskDropout, each from the same seed: outputs, input gradients and the generator's
    // state afterwards (the next draw) must all agree exactly, or trajectories would change when the masks did.
    [Theory]
    [InlineData(ScalarType.Float32, 0.1)]
    [InlineData(ScalarType.Float32, 0.5)]
    [InlineData(ScalarType.Float32, 0.77)]
    [InlineData(ScalarType.Float64, 0.3)]
    [InlineData(ScalarType.BFloat16, 0.1)]
    [InlineData(ScalarType.BFloat16, 0.37)]
    [InlineData(ScalarType.Float16, 0.1)]
    [InlineData(ScalarType.Float16, 0.6)]
    public void Matches_libtorch_dropout_bit_for_bit_forward_backward_and_generator_state(ScalarType dtype, double p)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using Scalar three = 3, zero = 0; // held: a Scalar made inline may be finalised while libtorch reads it
        var input = (randn(5, 17, 131) * three).to(dtype).requires_grad_();
        var upstream = randn(5, 17, 131).to(dtype);

        manual_seed(21);
        var expected = ReferenceDropout(input, p);
        expected.backward([upstream]);
        var expectedGrad = input.grad!.clone();
        var expectedNext = rand(4);
        input.grad!.zero_();

        manual_seed(21);
        var actual = MaskDropout.Apply(input, p, training: true);
        actual.backward([upstream]);
        var actualNext = rand(4);

        Same(actual, expected).Should().BeTrue("the same elements must be dropped and the kept ones scaled identically");
        Same(input.grad!, expectedGrad).Should().BeTrue();
        Same(actualNext, expectedNext).Should().BeTrue("the generator must advance as libtorch's dropout advances it");
        using var kept = actual.ne(zero).to(ScalarType.Float32).mean();
        kept.item<float>().Should().BeApproximately((float)(1 - p), 0.02f);
    }

    // libtorch's own dropout; builds whose Intel (MKL) Bernoulli kernel lacks float16 cannot serve as the reference.
    private static Tensor ReferenceDropout(Tensor input, double p)
    {
        try
        {
            return nn.functional.dropout(input, p, training: true);
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (input.dtype == ScalarType.Float16)
        {
            Assert.Skip($"libtorch's CPU dropout does not support float16 on this machine: {e.Message.Split('\n')[0]}");
            throw;
        }
    }

    // Layers often drop permuted views ([seq, batch, width] from [batch, seq, width]); libtorch draws its mask in the
    // input's memory order, so a mask laid out differently would drop other elements for the same seed.
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Matches_libtorch_dropout_on_a_permuted_input(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var input = randn(6, 9, 33).to(dtype).permute(1, 0, 2).requires_grad_();
        input.is_contiguous().Should().BeFalse();

        manual_seed(22);
        var expected = nn.functional.dropout(input, 0.2, training: true);
        manual_seed(22);
        var actual = MaskDropout.Apply(input, 0.2, training: true);

        Same(actual, expected).Should().BeTrue();
    }

    [Theory]
    [InlineData(ScalarType.Float32, 0.1)]
    [InlineData(ScalarType.Float32, 0.3)]
    [InlineData(ScalarType.BFloat16, 0.1)]
    [InlineData(ScalarType.BFloat16, 0.3)]
    [InlineData(ScalarType.Float16, 0.1)]
    [InlineData(ScalarType.Float64, 0.45)]
    public void Scale_is_the_factor_libtorch_writes_into_its_mask(ScalarType dtype, double p)
    {
        using Scalar keptShare = 1 - p;
        using var mask = ones(1, dtype: dtype).div_(keptShare); // what libtorch's CPU dropout multiplies kept elements by
        using var asDouble = mask.to(ScalarType.Float64);

        MaskDropout.Scale(p, dtype).Should().Be(asDouble.item<double>());
    }

    [Fact]
    public void Outside_training_or_at_rate_zero_it_returns_the_input_and_draws_nothing()
    {
        using var scope = NewDisposeScope();
        var input = randn(4, 6);
        manual_seed(8);
        var evaluation = MaskDropout.Apply(input, 0.5, training: false);
        var rateZero = MaskDropout.Apply(input, 0, training: true);
        var next = rand(3);
        manual_seed(8);
        var untouched = rand(3);

        Same(evaluation, input).Should().BeTrue();
        Same(rateZero, input).Should().BeTrue();
        Same(next, untouched).Should().BeTrue();
    }

    [Fact]
    public void The_module_follows_train_and_eval()
    {
        using var scope = NewDisposeScope();
        using var module = new MaskDropoutModule(0.5);
        var input = ones(64, 64);

        module.eval();
        Same(module.call(input), input).Should().BeTrue();
        module.train();
        var dropped = module.call(input);
        using Scalar zero = 0, two = 2;
        dropped.eq(zero).any().item<bool>().Should().BeTrue();
        dropped.eq(two).any().item<bool>().Should().BeTrue();
        module.parameters().Should().BeEmpty();
    }
}
