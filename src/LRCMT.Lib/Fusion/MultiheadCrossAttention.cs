using LRCMT.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Fusion;

/// <summary>
/// Multi-head attention with queries from one sequence and keys/values from another. The four projections are
/// ordinary replaceable <c>Linear</c> children named as in PyTorch/HF (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>,
/// <c>out_proj</c>), so LoRA can target them; the attention itself is libtorch's fused kernel
/// (<see cref="FusedAttention"/>). A sample whose keys are all padding gets a zero context, forward and backward,
/// instead of the NaN a −∞ mask would produce (an empty modality in a batch must not poison training).
/// </summary>
internal sealed class MultiheadCrossAttention : Module<Tensor, Tensor, Tensor?, Tensor>
{
    // Typed as Module<Tensor, Tensor> (not Linear) so LowRankInjector can swap in a LoRA layer.
    private Module<Tensor, Tensor> q_proj;
    private Module<Tensor, Tensor> k_proj;
    private Module<Tensor, Tensor> v_proj;
    private Module<Tensor, Tensor> out_proj;
    // Per-head slopes of the relative-time bias; null (and absent from the state dict) when the bias is off.
    private readonly Parameter? time_slopes;

    private readonly long _heads;
    private readonly long _headWidth;
    private readonly double _dropout;

    public MultiheadCrossAttention(long width, long heads, double dropout, bool relativeTimeBias = false, Device? device = null) : base(nameof(MultiheadCrossAttention))
    {
        _heads = heads;
        _headWidth = width / heads;
        _dropout = dropout;
        q_proj = Linear(width, width, device: device);
        k_proj = Linear(width, width, device: device);
        v_proj = Linear(width, width, device: device);
        out_proj = Linear(width, width, device: device);
        if (relativeTimeBias) time_slopes = new Parameter(tensor(RelativeTime.InitialSlopes(heads), device: device));
        RegisterComponents();
    }

    /// <param name="query">[batch, targetLen, width].</param>
    /// <param name="source">[batch, sourceLen, width]; keys and values come from here.</param>
    /// <param name="sourceMask">[batch, sourceLen] bool (true = real), or null when nothing is padded.</param>
    /// <returns>[batch, targetLen, width].</returns>
    public override Tensor forward(Tensor query, Tensor source, Tensor? sourceMask) => Attend(query, source, sourceMask, null);

    /// <summary>
    /// As <see cref="forward"/>, plus the relative-time bias when this attention has slopes and
    /// <paramref name="timeDistance"/> ([batch or 1, 1, Lt, Ls], from <see cref="RelativeTime.Distance"/>) is given.
    /// </summary>
    public Tensor Attend(Tensor query, Tensor source, Tensor? sourceMask, Tensor? timeDistance)
    {
        using var scope = NewDisposeScope();
        long batch = query.shape[0], targetLen = query.shape[1], sourceLen = source.shape[1];

        var q = SplitHeads(q_proj.call(query), batch, targetLen);
        var k = SplitHeads(k_proj.call(source), batch, sourceLen);
        var v = SplitHeads(v_proj.call(source), batch, sourceLen);

        var bias = ScoreBias(sourceMask, timeDistance, q.dtype);
        var attended = FusedAttention.Compute(q, k, v, bias, _dropout, training); // [B, H, Lt, D]
        // The finite mask leaves a sample without real keys with uniform weights over padding; zero it here.
        if (sourceMask is not null) attended = attended.mul(FusedAttention.AnyRealKey(sourceMask, q.dtype));
        if (AttentionCapture.IsCapturing(this)) AttentionCapture.Offer(this, CapturedWeights(q, k, bias, sourceMask));

        var context = attended.transpose(1, 2).reshape(batch, targetLen, _heads * _headWidth);
        return out_proj.call(context).MoveToOuterDisposeScope();
    }

    // The fused kernel never materialises the weights; only an active AttentionCapture pays for computing them.
    private Tensor CapturedWeights(Tensor q, Tensor k, Tensor? bias, Tensor? sourceMask)
    {
        using var _ = no_grad();
        using Scalar scale = 1.0 / Math.Sqrt(_headWidth);
        var scores = q.matmul(k.transpose(2, 3)).mul(scale); // [B, H, Lt, Ls]
        if (bias is not null) scores = scores.add(bias, One);
        if (sourceMask is null) return functional.softmax(scores, -1);
        var keep = sourceMask.to(ScalarType.Bool).view(sourceMask.shape[0], 1, 1, sourceMask.shape[1]);
        return functional.softmax(scores, -1) * keep.to(scores.dtype);
    }

    // −slope·|Δt| per head when the time bias is on, with key padding on top (FusedAttention's one padding rule).
    private Tensor? ScoreBias(Tensor? sourceMask, Tensor? timeDistance, ScalarType dtype)
    {
        var timeBias = time_slopes is null || timeDistance is null
            ? null
            : -(time_slopes.to(dtype).view(1, _heads, 1, 1) * timeDistance.to(dtype)); // [B|1, H, Lt, Ls]
        return sourceMask is null ? timeBias : FusedAttention.KeyPaddingBias(sourceMask, dtype, timeBias);
    }

    private Tensor SplitHeads(Tensor x, long batch, long length) =>
        x.view(batch, length, _heads, _headWidth).transpose(1, 2);
}
