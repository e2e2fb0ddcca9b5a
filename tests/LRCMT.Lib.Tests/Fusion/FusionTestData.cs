using TorchSharp;
using LRCMT.Interop;
using LRCMT.Fusion;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

/// <summary>Small deterministic inputs shared by the fusion tests.</summary>
internal static class FusionTestData
{
    /// <summary>Tiny, dropout-free settings so outputs are deterministic without eval().</summary>
    public static CrossModalSettings Tiny(int layers = 2, bool positions = true) => new()
    {
        Width = 8, Heads = 2, Layers = layers, FeedForwardMultiplier = 2,
        AttentionDropout = 0, ReluDropout = 0, ResidualDropout = 0, EmbeddingDropout = 0, UsePositions = positions, RelativeTimeBias = false,
    };

    /// <summary>A [rows, length] bool mask whose row r has <paramref name="lengths"/>[r] leading real positions.</summary>
    public static Tensor Mask(long length, params long[] lengths)
    {
        using var positions = RootedScalars.Arange(length, ScalarType.Int64, CPU).unsqueeze(0); // arange(length) passes unrooted Scalars
        using var limits = tensor(lengths).unsqueeze(1);
        return positions.lt(limits);
    }

    /// <summary>Replaces every padded position of <paramref name="values"/> by <paramref name="fill"/>.</summary>
    public static Tensor WithPadding(Tensor values, Tensor mask, double fill)
    {
        using Scalar held = fill; // held: a Scalar made inline may be finalised while libtorch reads it
        return values.masked_fill(mask.logical_not().unsqueeze(2), held);
    }
}
