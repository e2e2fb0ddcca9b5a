using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// LoRA on rows of a packed input projection: one third (q, k or v; this library's per-slice extension) or all of it
/// (PEFT's layout: one A [r, E] and one B [3E, r]). The frozen weight stays in the attention module's
/// <c>in_proj_weight</c>; this layer reads a view of its rows, so merging writes straight into the packed tensor
/// and the base parameter names do not change.
/// </summary>
internal sealed class InProjectionSlice : LoRALayer
{
    // Delegates rather than tensor fields: a tensor field would be registered again under this module's name.
    private readonly Func<Tensor> _weightView;
    private readonly Func<Tensor?> _biasView;

    public InProjectionSlice(long inFeatures, long outFeatures, Func<Tensor> weightView, Func<Tensor?> biasView)
        : base(nameof(InProjectionSlice), inFeatures, outFeatures)
    {
        _weightView = weightView;
        _biasView = biasView;
        RegisterComponents();
    }

    protected override Tensor BaseWeight => _weightView();

    protected override Tensor? BaseBias => _biasView();
}
