using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// W_eff = W0 + s·B·A (DoRA: m ⊙ (W0 + s·B·A) / ‖W0 + s·B·A‖, the norm a constant as in PEFT) as one autograd node
/// whose inputs are A, B (and m). Unlike plain autograd ops it keeps nothing that backward frees, so one W_eff can be
/// backpropagated several times (gradient accumulation over several forwards); and backward checks that A, B and m
/// still hold the values W_eff was built from. If not, the forward used stale weights: backward records that on the
/// layer and returns gradients of a wrong shape, so libtorch fails this backward instead of training silently wrong.
/// Non-finite A, B or m are recorded as such (never as staleness: NaN is compared as equal to NaN). Every backward
/// also marks the layer as possibly stale, since an optimiser step usually follows.
/// (Backward is called from native code, where a managed exception would end the process, so it never throws.)
/// </summary>
internal sealed class EffectiveWeightFunction : autograd.SingleTensorFunction<EffectiveWeightFunction>
{
    private const string BuildKey = "lrcmt.build";

    public override string Name => "LoRAEffectiveWeight";

    /// <summary>Builds W_eff in the stored layout of <paramref name="build"/>'s base weight.</summary>
    public static Tensor Apply(WeightBuild build) => Interop.FunctionOutputCache.ReleasePending(apply(build.A, build.B, build.Magnitude, build));

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        Interop.FunctionOutputCache.ReleaseAfterApply(ctx); // one output: TorchSharp's weight-sized buffer for zeros is never needed
        var build = (WeightBuild)vars[^1];
        ctx.save_data(BuildKey, build);
        return build.Compute();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        WeightBuild? build = null;
        try
        {
            build = (WeightBuild)ctx.get_data(BuildKey);
            build.Layer.RecordBackward();
            var (changed, finite) = build.Inspect();
            if (!finite) build.Layer.RecordNonFinite();
            if (changed)
            {
                if (finite) build.Layer.RecordStaleBackward();
                return Refused(build);
            }
            // Returned tensors must outlive this call (libtorch takes them after it returns): no dispose scope of our own.
            var (gradA, gradB, gradM) = build.Gradients(grad_output);
            return [gradA, gradB, gradM!, null!];
        }
        catch (Exception e)
        {
            build?.Layer.RecordBackwardFailure(e);
            return Refused(build);
        }
    }

    // A one-element gradient is neither A's, B's nor m's shape nor broadcastable from it, so libtorch raises an error.
    private static List<Tensor> Refused(WeightBuild? build)
    {
        try
        {
            return [empty(1), empty(1), build?.Magnitude is null ? null! : empty(1), null!];
        }
        catch
        {
            return [null!, null!, null!, null!];
        }
    }
}

/// <summary>Everything one W_eff was built from, kept for its backward (small snapshots of A, B, m; DoRA's V and scale).</summary>
internal sealed class WeightBuild
{
    private Tensor? _snapA, _snapB, _snapM, _value, _norm, _scale;

    public WeightBuild(SubstitutedLinear layer, Tensor storedWeight, bool transposed, double scaling, Parameter a, Parameter b, Parameter? magnitude)
        => (Layer, StoredWeight, Transposed, Scaling, A, B, Magnitude) = (layer, storedWeight, transposed, scaling, a, b, magnitude);

    public SubstitutedLinear Layer { get; }
    public Tensor StoredWeight { get; }
    public bool Transposed { get; }
    public double Scaling { get; }
    public Parameter A { get; }
    public Parameter B { get; }
    public Parameter? Magnitude { get; }

    /// <summary>Runs under no_grad inside the autograd function's forward.</summary>
    public Tensor Compute()
    {
        _snapA = A.detach().clone().DetachFromDisposeScope();
        _snapB = B.detach().clone().DetachFromDisposeScope();
        // Stored [out, in]: W0 + s·B·A; stored [in, out]: W0 + s·Aᵀ·Bᵀ.
        var value = Transposed ? StoredWeight.addmm(_snapA.t(), _snapB.t(), beta: 1, alpha: (float)Scaling) : StoredWeight.addmm(_snapB, _snapA, beta: 1, alpha: (float)Scaling);
        if (Magnitude is null) return value;

        _snapM = Magnitude.detach().clone().DetachFromDisposeScope();
        int inputDim = Transposed ? 0 : 1;
        _value = value.DetachFromDisposeScope();
        _norm = linalg.vector_norm(value, 2, new long[] { inputDim }).DetachFromDisposeScope();
        _scale = _snapM.div(_norm).DetachFromDisposeScope();
        return value.mul(Transposed ? _scale.unsqueeze(0) : _scale.unsqueeze(1));
    }

    /// <summary>
    /// Whether A, B or m no longer hold the values this W_eff was built from (NaN counts as equal to NaN), and whether
    /// they are all finite; one device-to-host transfer.
    /// </summary>
    public (bool Changed, bool Finite) Inspect()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pairs = new List<(Tensor Current, Tensor Snapshot)> { (A, _snapA!), (B, _snapB!) };
        if (Magnitude is not null) pairs.Add((Magnitude, _snapM!));
        var flags = stack(pairs.SelectMany(p => new[]
        {
            p.Current.eq(p.Snapshot).logical_or(p.Current.isnan().logical_and(p.Snapshot.isnan())).all(),
            p.Current.isfinite().all(),
        }).ToArray()).cpu().data<bool>().ToArray();
        bool same = true, finite = true;
        for (int i = 0; i < flags.Length; i += 2)
        {
            same &= flags[i];
            finite &= flags[i + 1];
        }
        return (!same, finite);
    }

    /// <summary>dL/dA, dL/dB, dL/dm from dL/dW_eff (in the stored layout).</summary>
    public (Tensor A, Tensor B, Tensor? M) Gradients(Tensor gradStored)
    {
        using var scope = NewDisposeScope();
        var grad = Transposed ? gradStored.t() : gradStored; // [out, in]
        Tensor? gradM = null;
        if (Magnitude is not null)
        {
            var value = Transposed ? _value!.t() : _value!;
            gradM = grad.mul(value).sum(1).div(_norm!);
            grad = grad.mul(_scale!.unsqueeze(1));
        }
        using Scalar scaling = Scaling;
        var gradA = _snapB!.t().matmul(grad).mul(scaling);
        var gradB = grad.matmul(_snapA!.t()).mul(scaling);
        return (gradA.MoveToOuterDisposeScope(), gradB.MoveToOuterDisposeScope(), gradM?.MoveToOuterDisposeScope());
    }
}
