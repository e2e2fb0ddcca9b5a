using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Interop;

/// <summary>
/// Scalars that live as long as the process, for the library's per-step and per-forward tensor arithmetic.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns a number passed to a tensor operation (<c>x.mul(0.5)</c>, <c>x * s</c>) into a
/// <see cref="Scalar"/> that nothing references while libtorch reads it, and its one-argument <c>add</c>/<c>add_</c>
/// (so also <c>a + b</c> of two tensors) pass a hidden alpha of 1 the same way. A garbage collection started by another
/// thread inside that call finalizes the Scalar, and libtorch reads freed memory: "Expected false to be true" or
/// "Unknown scalar type" from c10's Scalar.h, once in many thousand operations under a busy collector
/// (docs/reliability.md, "Numbers passed to libtorch"). The hot paths therefore pass <see cref="One"/>, or a Scalar
/// they hold in a <c>using</c> declaration until the operation has returned, and call the overloads that take every
/// Scalar (<c>add(other, alpha)</c>, <see cref="Arange"/>).
/// </remarks>
internal static class RootedScalars
{
    /// <summary>1, as the alpha of <c>add(other, alpha)</c> where <c>a + b</c> would pass an unrooted one.</summary>
    internal static readonly Scalar One = 1;

    /// <summary>0, for <c>masked_fill</c> and <c>clamp_min</c> on tensors of any dtype.</summary>
    internal static readonly Scalar Zero = 0;

    /// <summary>0, 1, …, <paramref name="stop"/> − 1: TorchSharp's <c>arange(stop)</c> passes its start and step unrooted.</summary>
    internal static Tensor Arange(long stop, ScalarType dtype, Device device)
    {
        using Scalar end = stop;
        return arange(Zero, end, One, dtype, device);
    }
}
