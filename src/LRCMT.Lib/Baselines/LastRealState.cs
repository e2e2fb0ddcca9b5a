using LRCMT.Fusion;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// The state at each sample's last real position: MulT's "last time step", taken where each sample's sequence really
/// ends rather than at the padded end of the batch.
/// </summary>
internal static class LastRealState
{
    /// <summary>[batch, seq, width] → [batch, width]; a sample without any real position gives zeros.</summary>
    public static Tensor Of(MaskedSequence sequence)
    {
        var (values, mask) = sequence;
        using var scope = NewDisposeScope();
        var real = mask.to(ScalarType.Bool);
        // 1-based position of each real frame, 0 for padding; the row maximum is the last real position (0: none).
        using Scalar end = values.shape[1] + 1;
        var positions = arange(One, end, One, dtype: ScalarType.Int64, device: values.device).unsqueeze(0);
        var last = positions.mul(real.to(ScalarType.Int64)).amax(1);
        var index = last.sub(One).clamp_min(Zero).view(-1, 1, 1).expand(-1, 1, values.shape[2]);
        var states = values.gather(1, index).squeeze(1);
        var any = last.gt(Zero).unsqueeze(1);
        return states.masked_fill(any.logical_not(), Zero).MoveToOuterDisposeScope();
    }
}
