using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// DoRA (weight-decomposed LoRA, Liu et al. 2024) as PEFT implements it: a trainable magnitude m per output row,
/// the adapted weight is m · (W + s·B·A) / ‖W + s·B·A‖ with the row norm taken over the input dimension and
/// treated as a constant in backward (paper §4.3). The module's only parameter is <c>weight</c> = m, so it sits
/// at <c>lora_magnitude_vector.&lt;adapter&gt;.weight</c> like PEFT's.
/// </summary>
internal sealed class DoraMagnitude : nn.Module, ILoRAVariant
{
    private Parameter weight;

    // Row scale m/‖W+ΔW‖ captured at merge time, because after merging W no longer tells us the original norm.
    // Held in a box, not a Tensor field, so TorchSharp never registers it as a buffer.
    private readonly MergedScaleBox _merged = new();

    /// <summary>Wraps the initial magnitude m [out] (the caller passes the row norms of W + s·B·A, as PEFT does).</summary>
    public DoraMagnitude(Tensor initialMagnitude) : base(nameof(DoraMagnitude))
    {
        weight = new Parameter(initialMagnitude, requires_grad: true);
        weight.DetachFromDisposeScope(); // owned by this module, not by whatever scope the caller has open
        RegisterComponents();
    }

    public bool NeedsDeltaWeight => true;

    public Parameter Magnitude => weight;

    public Tensor Delta(Tensor adapterInput, Tensor? baseWeight, nn.Module<Tensor, Tensor> loraA, nn.Module<Tensor, Tensor> loraB, Tensor? deltaWeight, double scaling, Tensor? projectedInput)
    {
        if (deltaWeight is null) throw new ArgumentNullException(nameof(deltaWeight), "DoRA needs s·B·A for its norm.");
        if (baseWeight is null) throw new ArgumentNullException(nameof(baseWeight), "DoRA needs W for its norm.");
        using var norm = RowNorm(baseWeight, deltaWeight.detach()).detach();
        using var scale = weight.div(norm);
        // (scale - 1)·W·x removes the base output and adds the rescaled one; with dropout the base path keeps the
        // undropped x, so W·x must be recomputed on the dropped input.
        using var projected = projectedInput is null ? nn.functional.linear(adapterInput, baseWeight) : projectedInput.alias();
        using var rescaledBase = projected.mul(scale.sub(One));
        using var lora = loraB.call(loraA.call(adapterInput));
        using Scalar s = scaling;
        return rescaledBase.add(lora.mul(scale).mul(s), One);
    }

    public void Merge(Tensor weightToMerge, Tensor deltaWeight)
    {
        using var norm = RowNorm(weightToMerge, deltaWeight);
        _merged.Scale?.Dispose();
        _merged.Scale = weight.detach().div(norm).unsqueeze(1).DetachFromDisposeScope(); // outlives the caller's scope
        weightToMerge.add_(deltaWeight, One).mul_(_merged.Scale);
    }

    public void Unmerge(Tensor weightToUnmerge, Tensor deltaWeight)
    {
        if (_merged.Scale is null) throw new InvalidOperationException("DoRA adapter is not merged.");
        weightToUnmerge.div_(_merged.Scale).sub_(deltaWeight);
        _merged.Scale.Dispose();
        _merged.Scale = null;
    }

    /// <summary>‖W + ΔW‖ per output row (L2 over the input dimension), PEFT's DoRA weight norm.</summary>
    public static Tensor RowNorm(Tensor baseWeight, Tensor deltaWeight)
    {
        using var adapted = baseWeight.add(deltaWeight, One);
        return linalg.vector_norm(adapted, 2, new long[] { 1 });
    }

    // Kept: the merged scale lives in a plain box, not a registered buffer, so the base Dispose never sees it.
    protected override void Dispose(bool disposing)
    {
        if (disposing) _merged.Scale?.Dispose();
        base.Dispose(disposing);
    }

    private sealed class MergedScaleBox
    {
        public Tensor? Scale;
    }
}
