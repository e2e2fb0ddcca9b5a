using TorchSharp;
using LRCMT.Interop;
using static TorchSharp.torch;

namespace LRCMT.Tests.Attention;

/// <summary>
/// The attention the library computed before it used the fused kernel, kept only as a test reference:
/// softmax(q·kᵀ/√d + mask)·v written out as matmul, softmax, matmul.
/// </summary>
internal static class WrittenOutAttention
{
    /// <param name="q">[B, H, Lq, D].</param>
    /// <param name="k">[B, H, Lk, D].</param>
    /// <param name="v">[B, H, Lk, D].</param>
    /// <param name="additiveMask">Broadcastable to [B, H, Lq, Lk], or null.</param>
    public static Tensor Compute(Tensor q, Tensor k, Tensor v, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        using Scalar scale = Math.Sqrt(q.shape[^1]); // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        var scores = q.matmul(k.transpose(-1, -2)).div(scale);
        if (additiveMask is not null) scores = scores.add(additiveMask, RootedScalars.One);
        return nn.functional.softmax(scores, -1).matmul(v).MoveToOuterDisposeScope();
    }

    /// <summary>[B, L, H·D] → [B, H, L, D].</summary>
    public static Tensor Heads(Tensor x, long heads) => x.view(x.shape[0], x.shape[1], heads, x.shape[2] / heads).transpose(1, 2);

    /// <summary>[B, H, L, D] → [B, L, H·D].</summary>
    public static Tensor Merge(Tensor x) => x.transpose(1, 2).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3]);
}
