using LRCMT.Errors;
using static TorchSharp.torch;

namespace LRCMT.Fusion;

/// <summary>Pools a padded sequence into one vector per sample, looking only at real positions.</summary>
public static class MaskedPooling
{
    /// <summary>
    /// Mean over the real positions: [batch, seq, width] → [batch, width]. A sample without any real position
    /// pools to zeros (never NaN), so an empty modality simply contributes nothing.
    /// </summary>
    public static Tensor Mean(MaskedSequence sequence)
    {
        var (values, mask) = sequence;
        if (values.dim() != 3) throw new ShapeMismatchException("pooled sequence", "[batch, seq, width]", values.shape);
        if (mask.dim() != 2 || mask.shape[0] != values.shape[0] || mask.shape[1] != values.shape[1])
            throw new ShapeMismatchException("pooling mask", $"[{values.shape[0]}, {values.shape[1]}]", mask.shape);

        using var scope = NewDisposeScope();
        var keep = mask.to(ScalarType.Bool).unsqueeze(2);
        // masked_fill rather than multiply: padding may hold inf/NaN, and 0 * inf is NaN.
        var sum = values.masked_fill(keep.logical_not(), 0).sum(1);
        var count = keep.sum(1).to(values.dtype).clamp_min(1);
        return (sum / count).MoveToOuterDisposeScope();
    }
}
