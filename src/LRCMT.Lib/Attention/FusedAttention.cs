using LRCMT.Regularization;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Attention;

/// <summary>
/// The one place where LRCMT computes softmax(q·kᵀ/√d + mask)·v: through libtorch's fused
/// <c>scaled_dot_product_attention</c> (flash or memory-efficient kernels on CUDA, the fused CPU kernel on the CPU),
/// which never materialises the [batch, heads, queries, keys] probabilities for backward the way a written-out
/// matmul–softmax–matmul does (except where libtorch has no fused kernel, see <see cref="Compute"/>). Masks are
/// additive with the dtype's most negative finite value (never −∞), so every softmax row stays finite forward and
/// backward.
/// </summary>
internal static class FusedAttention
{
    /// <summary>Runs attention over heads.</summary>
    /// <param name="query">[batch, heads, queries, headWidth].</param>
    /// <param name="key">[batch, heads, keys, headWidth].</param>
    /// <param name="value">[batch, heads, keys, headWidth].</param>
    /// <param name="additiveMask">Broadcastable to [batch, heads, queries, keys], same dtype as the query; or null.</param>
    /// <param name="dropout">Dropout on the attention weights, applied only when <paramref name="training"/>.</param>
    /// <param name="training">Whether the calling module is in training mode.</param>
    /// <returns>[batch, heads, queries, headWidth].</returns>
    /// <remarks>
    /// One case does not call the kernel: training with dropout on the CPU. libtorch has no fused CPU kernel with
    /// dropout; <c>scaled_dot_product_attention</c> then falls back to its own written-out math, which keeps a dropout
    /// factor as large as the weights in their element type and, for bfloat16, computes (and keeps for backward) float32
    /// copies of q, k, v and the weights. <see cref="DropoutOnCpu"/> runs the same operations itself with a boolean
    /// dropout mask (<see cref="MaskDropout"/>): bit-identical to the fallback in float32 and float64, and in bfloat16 it
    /// stays in bfloat16 (results within a few bfloat16 rounding steps of the fallback's). float16 keeps the fallback:
    /// scores plus the most negative float16 could round to −∞.
    /// </remarks>
    public static Tensor Compute(Tensor query, Tensor key, Tensor value, Tensor? additiveMask, double dropout, bool training)
    {
        bool dropping = training && dropout > 0;
        if (dropping && query.device_type == DeviceType.CPU && query.dtype != ScalarType.Float16)
            return DropoutOnCpu(query, key, value, additiveMask, dropout);
        return nn.functional.scaled_dot_product_attention(query, key, value, additiveMask, dropping ? dropout : 0.0);
    }

    // libtorch's fallback order of operations (√scale on q and on k, mask added in place, softmax, dropout, ·v), so
    // float32 results do not move by a bit; only what is kept for backward shrinks.
    private static Tensor DropoutOnCpu(Tensor query, Tensor key, Tensor value, Tensor? additiveMask, double dropout)
    {
        using var scope = NewDisposeScope();
        double rootScale = Math.Sqrt(1.0 / Math.Sqrt(query.shape[^1]));
        using Scalar root = rootScale;
        var scores = query.mul(root).matmul(key.transpose(-2, -1).mul(root));
        if (additiveMask is not null) scores.add_(additiveMask, One);
        var weights = MaskDropout.Apply(scores.softmax(-1), dropout, training: true);
        return weights.matmul(value).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [batch, keys] key-padding mask (true / non-zero = real) to the additive term: <c>finfo(dtype).min</c> on padded
    /// keys, so they get exactly zero weight in any row with a real key, and elsewhere 0 — or
    /// <paramref name="scoreBias"/> when given (another additive term, e.g. the relative-time bias, broadcastable to
    /// [batch, heads, queries, keys]). Padding replaces that term rather than adding to it, so the sum can never overflow
    /// to −∞ (an all-padding row would then be NaN).
    /// </summary>
    /// <returns>[batch, 1, 1, keys] without <paramref name="scoreBias"/>; otherwise its shape broadcast with that.</returns>
    public static Tensor KeyPaddingBias(Tensor keyMask, ScalarType dtype, Tensor? scoreBias = null)
    {
        using var scope = NewDisposeScope();
        var padded = keyMask.to(ScalarType.Bool).logical_not().view(keyMask.shape[0], 1, 1, keyMask.shape[1]);
        var bias = scoreBias ?? zeros(padded.shape, dtype, padded.device);
        using Scalar lowest = finfo(dtype).min;
        return bias.masked_fill(padded, lowest).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// [batch, 1, 1, 1] factor that is 1 for samples with at least one real key and 0 for samples whose keys are all
    /// padding. Multiplying the attention output by it turns those samples' rows (uniform weights over padding, since
    /// the mask is finite) into zeros, and zeroes their gradient too: the post-mask the fused kernel cannot apply.
    /// </summary>
    public static Tensor AnyRealKey(Tensor keyMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var any = keyMask.to(ScalarType.Bool).any(1).to(dtype);
        return any.view(keyMask.shape[0], 1, 1, 1).MoveToOuterDisposeScope();
    }
}
