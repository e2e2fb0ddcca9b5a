using FluentAssertions;
using LRCMT.Interop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Interop;

// TorchSharp's custom functions keep an output-sized buffer per call until the graph is freed; the library's
// single-output functions (int8 projection, LoRA's effective weight) release it. If a TorchSharp update moves or drops
// that buffer, the first test says so: then the release is a no-op and the memory note in docs/performance.md is stale.
public class FunctionOutputCacheTests
{
    [Fact]
    public void TorchSharp_keeps_a_buffer_per_output_of_a_call_that_needs_gradients()
    {
        FunctionOutputCache.IsSupported.Should().BeTrue("TorchSharp 0.107 keeps Node<T>._outputCache, reached through AutogradContext._node");
        using var x = randn(4, 8).requires_grad_();

        using var y = Doubling.Apply(x, release: false);

        FunctionOutputCache.Held(Doubling.LastContext!).Should().Be(1, "one output, one empty_like buffer held until the graph is freed");
    }

    [Fact]
    public void Release_frees_the_buffer_and_backward_still_gets_its_gradient()
    {
        using var x = randn(4, 8).requires_grad_();

        using var y = Doubling.Apply(x, release: true);
        FunctionOutputCache.Held(Doubling.LastContext!).Should().Be(0);
        using var loss = (y * y).sum();
        loss.backward();

        // d/dx sum((2x)^2) = 8x
        using Scalar eight = 8; // held: a Scalar made inline may be finalised while libtorch reads it
        using var expected = x.detach() * eight;
        x.grad!.allclose(expected, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Release_leaves_a_function_that_materializes_gradients_alone()
    {
        using var x = randn(3).requires_grad_();

        using var y = Doubling.Apply(x, release: true, materialize: true);

        FunctionOutputCache.Held(Doubling.LastContext!).Should().Be(1, "a function that wants zeros for missing gradients keeps its buffers");
    }

    // Follows the library's functions: ReleaseAfterApply in forward, apply's result through ReleasePending.
    private sealed class Doubling : autograd.SingleTensorFunction<Doubling>
    {
        [ThreadStatic] internal static autograd.AutogradContext? LastContext;
        [ThreadStatic] private static bool releaseNext, materializeNext;

        public override string Name => "TestDoubling";

        internal static Tensor Apply(Tensor x, bool release, bool materialize = false)
        {
            (releaseNext, materializeNext) = (release, materialize);
            return FunctionOutputCache.ReleasePending(apply(x));
        }

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            if (releaseNext) FunctionOutputCache.ReleaseAfterApply(ctx);
            if (materializeNext) ctx.set_materialize_grads(true); // turned back on after ReleaseAfterApply
            LastContext = ctx;
            return ((Tensor)vars[0]) * Two;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output * Two];

        private static readonly Scalar Two = 2; // held for the process, as RootedScalars' are
    }
}
