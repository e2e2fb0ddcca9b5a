using LRCMT.Errors;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// Lines a non-verbal stream up with the text tokens (<see cref="NonverbalAlignment"/>). Integer arithmetic decides
/// which token's share of the clip a frame falls in, so the assignment is exact and the same on every device.
/// </summary>
internal static class TextTimeResampling
{
    /// <summary>The frames, one row per text position: [batch, textLen, features]; padded tokens get zeros.</summary>
    /// <param name="frames">[batch, frameLen, features].</param>
    /// <param name="frameMask">[batch, frameLen] bool (true = real).</param>
    /// <param name="textMask">[batch, textLen] bool (true = real).</param>
    /// <param name="alignment">How frames map to tokens.</param>
    /// <param name="what">The stream's name for error messages.</param>
    public static Tensor ToText(Tensor frames, Tensor frameMask, Tensor textMask, NonverbalAlignment alignment, string what)
    {
        using var scope = NewDisposeScope();
        var frameReal = frameMask.to(ScalarType.Bool);
        var textReal = textMask.to(ScalarType.Bool);
        // masked_fill rather than a product with the weights: padding may hold inf/NaN, and 0 * inf is NaN.
        var clean = frames.masked_fill(frameReal.logical_not().unsqueeze(2), Zero);
        if (alignment == NonverbalAlignment.AsGiven)
        {
            if (frames.shape[1] != textMask.shape[1])
                throw new ShapeMismatchException($"{what} features (AsGiven alignment needs the text's length)",
                    $"[{frames.shape[0]}, {textMask.shape[1]}, {frames.shape[2]}]", frames.shape);
            return clean.masked_fill(textReal.logical_not().unsqueeze(2), Zero).MoveToOuterDisposeScope();
        }
        return Weights(frameReal, textReal).to(frames.dtype).bmm(clean).MoveToOuterDisposeScope();
    }

    // [batch, textLen, frameLen]: row i averages the frames of token i's share (or its nearest frame); zero rows for padding.
    private static Tensor Weights(Tensor frameReal, Tensor textReal)
    {
        var n = textReal.sum(1, keepdim: true, type: ScalarType.Int64);   // real tokens  [B, 1]
        var m = frameReal.sum(1, keepdim: true, type: ScalarType.Int64);  // real frames  [B, 1]
        var tokenRank = textReal.to(ScalarType.Int64).cumsum(1).sub(One);  // [B, Lt]
        var frameRank = frameReal.to(ScalarType.Int64).cumsum(1).sub(One); // [B, Lf]
        using Scalar two = 2; // held, as every number here (RootedScalars)

        // Frame j of m sits at (j + ½)/m; token i of n covers [i/n, (i+1)/n): its token is ⌊(2j + 1)·n / 2m⌋.
        var window = frameRank.mul(two).add(One, One).mul(n).div(m.clamp_min(One).mul(two), rounding_mode: RoundingMode.floor);
        // The frame nearest token i's centre (i + ½)/n: ⌊(2i + 1)·m / 2n⌋.
        var nearest = tokenRank.mul(two).add(One, One).mul(m).div(n.clamp_min(One).mul(two), rounding_mode: RoundingMode.floor);

        var real = textReal.unsqueeze(2).logical_and(frameReal.unsqueeze(1));
        var inShare = window.unsqueeze(1).eq(tokenRank.unsqueeze(2)).logical_and(real);
        var closest = frameRank.unsqueeze(1).eq(nearest.unsqueeze(2)).logical_and(real);
        var hasShare = inShare.any(2, keepdim: true);
        var chosen = where(hasShare, inShare, closest).to(ScalarType.Float32);
        return chosen.div(chosen.sum(2, keepdim: true).clamp_min(One));
    }
}
