using LRCMT.Errors;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// Weight-only int8 quantization, symmetric per output channel: row o of W [out, in] is stored as int8 codes
/// q[o, i] = round(W[o, i] / s[o]) in [−127, 127] with one float32 scale s[o] = max_i |W[o, i]| / 127, and read back
/// as q · s. Each weight is off by at most s[o] / 2 = max_i |W[o, i]| / 254 (half a quantization step), and the
/// largest weight of every row is exact up to float32 rounding.
/// </summary>
internal static class Int8Weights
{
    /// <summary>The largest code; −128 is never used, so the grid is symmetric around 0.</summary>
    public const int MaxCode = 127;

    /// <summary>Quantizes a 2-D floating-point weight [out, in] row by row (through one float32 copy of it).</summary>
    /// <returns>The codes [out, in] (int8) and the scales [out] (float32), on the weight's device.</returns>
    /// <exception cref="ShapeMismatchException">The weight is not 2-D.</exception>
    /// <exception cref="InvalidInputException">The weight is not floating point, or holds NaN or infinity.</exception>
    public static (Tensor Codes, Tensor Scales) Quantize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ShapeMismatchException("weight to quantize", "[out_features, in_features]", weight.shape);
        if (!weight.is_floating_point()) throw new InvalidInputException("weight to quantize", $"it must be floating point (got {weight.dtype}).");
        var codes = empty(weight.shape, ScalarType.Int8, weight.device);
        var scales = empty(weight.shape[0], ScalarType.Float32, weight.device);
        try
        {
            using var _ = no_grad();
            using var scratch = weight.detach().to(ScalarType.Float32, copy: true);
            QuantizeRows(scratch, codes, scales);
        }
        catch
        {
            codes.Dispose();
            scales.Dispose();
            throw;
        }
        return (codes, scales);
    }

    /// <summary>
    /// Quantizes the rows of <paramref name="rows"/> [n, in] (float32, <b>overwritten</b>: the caller's scratch) into
    /// <paramref name="codes"/> [n, in] and <paramref name="scales"/> [n] — the rows of the full codes and scales they
    /// belong to, so a weight is quantized a block of rows at a time (every row is quantized on its own: the result is
    /// the same). Nothing as large as the block is allocated: temporaries of a block's size, freed block after block,
    /// would stay in the native heap as holes between the codes (they cost an int8 bert-base 70 MB after loading).
    /// </summary>
    /// <exception cref="InvalidInputException">A row holds NaN or infinity.</exception>
    internal static void QuantizeRows(Tensor rows, Tensor codes, Tensor scales)
    {
        if (rows.dtype != ScalarType.Float32) throw new ArgumentException($"the rows to quantize must be float32 scratch (got {rows.dtype}).", nameof(rows));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // max |row| from the row's largest and smallest value (no |w| copy); NaN or infinite exactly when the row holds
        // a NaN or an infinity (both reductions propagate NaN).
        var largest = maximum(rows.amax([1]), rows.amin([1]).neg_());
        if (!largest.isfinite().all().item<bool>()) throw new InvalidInputException("weight to quantize", "it holds NaN or infinity.");
        // An all-zero row keeps scale 1 (its codes are 0 whatever the scale), so nothing divides by zero.
        using Scalar maxCode = MaxCode, minCode = -MaxCode; // held through the calls (RootedScalars)
        var rowScales = where(largest.gt(Zero), largest.div(maxCode), ones_like(largest));
        scales.copy_(rowScales);
        // Rounded and clamped, the values are whole numbers in [−127, 127]: the cast to int8 is exact.
        codes.copy_(rows.div_(rowScales.unsqueeze(1)).round_().clamp_(minCode, maxCode));
    }

    /// <summary>
    /// Reads quantized rows back: codes [out, in] · scales [out], multiplied in float32 and rounded once to
    /// <paramref name="dtype"/> (bfloat16 holds every code exactly, but a bfloat16 product of a rounded scale would round twice).
    /// </summary>
    /// <exception cref="ShapeMismatchException">The codes are not 2-D, or the scales are not [out].</exception>
    public static Tensor Dequantize(Tensor codes, Tensor scales, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentNullException.ThrowIfNull(scales);
        if (codes.dim() != 2) throw new ShapeMismatchException("int8 codes", "[out_features, in_features]", codes.shape);
        if (scales.dim() != 1 || scales.shape[0] != codes.shape[0]) throw new ShapeMismatchException("int8 scales", $"[{codes.shape[0]}]", scales.shape);
        using var scope = NewDisposeScope();
        var product = codes.to(ScalarType.Float32).mul_(scales.to(ScalarType.Float32).unsqueeze(1));
        return (dtype == ScalarType.Float32 ? product : product.to(dtype)).MoveToOuterDisposeScope();
    }
}
