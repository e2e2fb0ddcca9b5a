using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// The initialisations that move the principal part of a frozen weight W0 [out, in] into the adapter, as PEFT defines
/// them: PiSSA (an SVD) and OLoRA (a QR). Each returns A [r, in] and B [out, r] with s·B·A equal to the part taken out
/// of W0; the caller subtracts it. Everything is computed in float32, as PEFT does.
/// </summary>
internal static class PrincipalInit
{
    /// <summary>
    /// PiSSA: W0 = V·diag(S)·Uᴴ; with S_r the r largest singular values divided by s, A = diag(√S_r)·Uᴴ_r and
    /// B = V_r·diag(√S_r), so s·B·A = V_r·diag(S)·Uᴴ_r. <paramref name="iterations"/> null: the exact SVD; else the
    /// randomised SVD (<see cref="RandomizedSvd"/>) with q = r and that many subspace iterations.
    /// <paramref name="testMatrix"/> is the randomised SVD's Gaussian test matrix, or null to draw it (tests pass their own).
    /// </summary>
    public static (Tensor A, Tensor B) Pissa(Tensor weight, int rank, double scaling, int? iterations, Tensor? testMatrix = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = weight.to(ScalarType.Float32);
        Tensor left, values, rightH;
        if (iterations is null)
        {
            var (u, s, vh) = linalg.svd(w, fullMatrices: false);
            left = u.narrow(1, 0, rank);
            values = s.narrow(0, 0, rank);
            rightH = vh.narrow(0, 0, rank);
        }
        else
        {
            var (u, s, v) = RandomizedSvd(w, rank, iterations.Value, testMatrix);
            (left, values, rightH) = (u, s, v.t());
        }
        using Scalar heldScaling = scaling;
        var root = values.div(heldScaling).sqrt();
        var a = rightH.mul(root.unsqueeze(1)).contiguous();
        var b = left.mul(root.unsqueeze(0)).contiguous();
        return (a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    /// <summary>OLoRA: W0 = Q·R (reduced QR), B = Q[:, :r], A = R[:r] (no scaling in A or B, as in PEFT).</summary>
    public static (Tensor A, Tensor B) OLoRA(Tensor weight, int rank)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (q, r) = linalg.qr(weight.to(ScalarType.Float32));
        var a = r.narrow(0, 0, rank).contiguous();
        var b = q.narrow(1, 0, rank).contiguous();
        return (a.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <c>torch.svd_lowrank(A, q, niter)</c> (Halko, Martinsson and Tropp 2009, algorithms 4.4 and 5.1, as current
    /// PyTorch orients it): work on the tall one of A and Aᴴ; Q = orth(A·Ω) with Ω [n, q] Gaussian, then
    /// <paramref name="iterations"/> times Q = orth(Aᴴ·Q), Q = orth(A·Q); B = Qᴴ·A = U_B·S·Vᴴ; U = Q·U_B.
    /// Returns U [m, q], S [q], V [n, q] of the original A.
    /// <paramref name="testMatrix"/> is Ω [n_tall, q], or null to draw it from the default generator.
    /// </summary>
    public static (Tensor U, Tensor S, Tensor V) RandomizedSvd(Tensor a, int q, int iterations, Tensor? testMatrix = null)
    {
        using var scope = NewDisposeScope();
        bool wide = a.shape[0] < a.shape[1];
        var tall = wide ? a.t() : a;
        var omega = testMatrix ?? randn(tall.shape[1], q, dtype: tall.dtype, device: tall.device);
        var basis = linalg.qr(tall.matmul(omega)).Q;
        for (int i = 0; i < iterations; i++)
        {
            basis = linalg.qr(tall.t().matmul(basis)).Q;
            basis = linalg.qr(tall.matmul(basis)).Q;
        }
        var (ub, s, vh) = linalg.svd(basis.t().matmul(tall), fullMatrices: false);
        var u = basis.matmul(ub);
        var v = vh.t();
        if (wide) (u, v) = (v, u);
        return (u.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }
}
