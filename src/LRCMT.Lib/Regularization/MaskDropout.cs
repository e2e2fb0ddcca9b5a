using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Regularization;

/// <summary>
/// Dropout that keeps a one-byte boolean mask for backward instead of a mask in the input's element type.
/// </summary>
/// <remarks>
/// On the CPU libtorch's <c>dropout</c> computes <c>x · (bernoulli(1 − p) / (1 − p))</c> and keeps that factor, a
/// tensor as large as the input in its own element type, until backward (only CUDA has the fused kernel with a
/// boolean mask). Here the draw goes into a boolean tensor and the scale is a scalar: <c>(x · keep) · s</c>. The draw
/// uses the generator exactly as libtorch's does (a Bernoulli draw does not depend on the element type it is written
/// to), x · 1 and x · 0 are exact, and s is libtorch's factor rounded to the input's type, so forward and backward
/// agree with <c>nn.functional.dropout</c> bit for bit for the same seed (tests check it); what is saved is 4× (fp32)
/// or 2× (bf16/fp16) smaller.
/// </remarks>
internal static class MaskDropout
{
    /// <summary>Drops elements of <paramref name="input"/> with probability <paramref name="p"/> when training.</summary>
    /// <returns>The input itself when not training or p is 0; otherwise a new tensor.</returns>
    public static Tensor Apply(Tensor input, double p, bool training)
    {
        if (!training || p == 0) return input.alias();
        if (p >= 1 || input.device_type != DeviceType.CPU || !input.is_floating_point())
            return nn.functional.dropout(input, p, training); // CUDA's fused kernel already keeps a boolean mask
        using var scope = NewDisposeScope();
        // empty_like keeps the input's strides, as libtorch's mask does, so a permuted input draws in the same order.
        var keep = empty_like(input, dtype: ScalarType.Bool).bernoulli_(1 - p);
        using Scalar scale = Scale(p, input.dtype); // held through the call: see RootedScalars
        return input.mul(keep).mul_(scale).MoveToOuterDisposeScope();
    }

    /// <summary>1 / (1 − p) as libtorch computes it for the mask: in float32, then rounded to the element type.</summary>
    internal static double Scale(double p, ScalarType dtype)
    {
        float scale = 1f / (float)(1 - p);
        return dtype switch
        {
            ScalarType.Float64 => 1.0 / (1 - p),
            ScalarType.Float16 => (double)(Half)scale,
            ScalarType.BFloat16 => RoundToBFloat16(scale),
            _ => scale,
        };
    }

    // Round to nearest even on the upper 16 bits, as libtorch's float → bfloat16 conversion does (finite values only).
    private static double RoundToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle((bits + rounding) & 0xFFFF0000u);
    }
}
