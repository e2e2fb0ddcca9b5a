using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Fusion;

/// <summary>
/// Frame times as fractions of each clip's real length, and the |Δt| table the relative-time bias scales
/// (<see cref="CrossModalSettings.RelativeTimeBias"/>). Fractions rather than frame indices, so that two streams
/// sampled at different rates (unaligned data) agree on when something happened.
/// </summary>
internal static class RelativeTime
{
    /// <summary>
    /// [batch or 1, length]: (k + ½) / n for the k-th real frame (0-based) of a clip with n real frames. Padding frames
    /// get a time too (they are masked as keys, and their outputs are never pooled).
    /// </summary>
    public static Tensor FrameTimes(Tensor? mask, long length, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor times;
        if (mask is null)
        {
            using Scalar half = 0.5, count = length;
            times = Arange(length, ScalarType.Float32, device).add(half, One).div(count).unsqueeze(0);
        }
        else
        {
            var real = mask.to(ScalarType.Float32);
            var count = real.sum(1, keepdim: true).clamp_min(One);
            using Scalar half = 0.5;
            times = real.cumsum(1).sub(half).div(count);
        }
        return times.MoveToOuterDisposeScope();
    }

    /// <summary>[batch or 1, 1, target length, source length]: |t<sub>target</sub> − t<sub>source</sub>|, one row per target frame.</summary>
    public static Tensor Distance(Tensor targetTimes, Tensor sourceTimes)
    {
        using var scope = NewDisposeScope();
        var distance = (targetTimes.unsqueeze(2) - sourceTimes.unsqueeze(1)).abs().unsqueeze(1);
        return distance.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Initial per-head slopes: 0 for the first head (attends anywhere) rising geometrically to 32 for the last, so at
    /// the start some heads already prefer the same moment (at slope 32 a frame 0.1 of the clip away weighs e^-3.2 as much).
    /// </summary>
    public static float[] InitialSlopes(long heads)
    {
        if (heads == 1) return [8f];
        var slopes = new float[heads];
        for (long h = 1; h < heads; h++) slopes[h] = (float)Math.Pow(32.0, (double)h / (heads - 1));
        return slopes;
    }
}
