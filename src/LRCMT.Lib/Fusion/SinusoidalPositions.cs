using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Fusion;

/// <summary>
/// The fixed sine/cosine position table of "Attention Is All You Need": even channels sin(p / 10000^(2i/d)),
/// odd channels the matching cosine. Computed on demand, so sequences of any length work and nothing lands
/// in the state dict.
/// </summary>
internal static class SinusoidalPositions
{
    /// <summary>The table [length, width] on <paramref name="device"/> with element type <paramref name="dtype"/>.</summary>
    public static Tensor Table(long length, long width, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var pairs = (width + 1) / 2;
        var positions = Arange(length, ScalarType.Float32, device).unsqueeze(1);
        var angles = positions * Frequencies(width, device).unsqueeze(0);
        // Interleave sin and cos so channel 2i is sin and 2i+1 is cos; trim the extra cosine for odd widths.
        var table = stack(new[] { sin(angles), cos(angles) }, 2).reshape(length, 2 * pairs).narrow(1, 0, width);
        return table.to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The [⌈width / 2⌉] float32 frequencies 10000^(−2i/width) of the channel pairs (the ONNX exporter writes these and
    /// computes the table from them, so both paths share one formula).
    /// </summary>
    internal static Tensor Frequencies(long width, Device device)
    {
        using var scope = NewDisposeScope();
        var pairs = (width + 1) / 2;
        using Scalar rate = -2.0 * Math.Log(10000.0) / width;
        return exp(Arange(pairs, ScalarType.Float32, device).mul(rate)).MoveToOuterDisposeScope();
    }
}
