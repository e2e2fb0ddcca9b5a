using LRCMT.Errors;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Fusion;

/// <summary>
/// A padded batch of one modality's sequence with its mask: <see cref="Values"/> [batch, seq, width],
/// <see cref="Mask"/> [batch, seq] bool, true = real position. The fusion blocks pass these around so a
/// sequence never travels without the mask that says which of its positions are padding.
/// </summary>
/// <param name="Values">States [batch, seq, width].</param>
/// <param name="Mask">Key-padding mask [batch, seq], bool (true = real).</param>
public readonly record struct MaskedSequence(Tensor Values, Tensor Mask)
{
    /// <summary>
    /// Concatenates sequences along time (e.g. the acoustic and visual stage-1 outputs into one memory);
    /// masks are concatenated alike, so padding in the middle stays masked.
    /// </summary>
    public static MaskedSequence Concatenate(params MaskedSequence[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("At least one sequence is needed.", nameof(parts));
        var width = parts[0].Values.shape[^1];
        foreach (var part in parts)
        {
            if (part.Values.shape[^1] != width)
                throw new ShapeMismatchException("sequence to concatenate", $"[batch, seq, {width}]", part.Values.shape);
        }
        return new MaskedSequence(
            cat(parts.Select(p => p.Values).ToArray(), 1),
            cat(parts.Select(p => p.Mask).ToArray(), 1));
    }

    /// <summary>
    /// Pools the sequence into one vector per sample, looking only at real positions: the mean over them,
    /// [batch, seq, width] → [batch, width]. A sample without any real position pools to zeros (never NaN), so an
    /// empty modality simply contributes nothing.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The values are not [batch, seq, width] or the mask not [batch, seq].</exception>
    public Tensor Mean()
    {
        if (Values.dim() != 3) throw new ShapeMismatchException("pooled sequence", "[batch, seq, width]", Values.shape);
        if (Mask.dim() != 2 || Mask.shape[0] != Values.shape[0] || Mask.shape[1] != Values.shape[1])
            throw new ShapeMismatchException("pooling mask", $"[{Values.shape[0]}, {Values.shape[1]}]", Mask.shape);

        using var scope = NewDisposeScope();
        var keep = Mask.to(ScalarType.Bool).unsqueeze(2);
        // masked_fill rather than multiply: padding may hold inf/NaN, and 0 * inf is NaN.
        var sum = Values.masked_fill(keep.logical_not(), Zero).sum(1);
        var count = keep.sum(1).to(Values.dtype).clamp_min(One);
        return (sum / count).MoveToOuterDisposeScope();
    }
}
