using LRCMT.Errors;
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
}
