using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Fusion;

/// <summary>
/// Multi-head attention with queries from one sequence and keys/values from another, written out in managed
/// TorchSharp rather than through <c>scaled_dot_product_attention</c> for two reasons: the four projections
/// are ordinary replaceable <c>Linear</c> children named as in PyTorch/HF (<c>q_proj</c>, <c>k_proj</c>,
/// <c>v_proj</c>, <c>out_proj</c>), so LoRA can target them; and a query whose keys are all padding gets a zero
/// context instead of the NaN a -inf mask would produce (an empty modality in a batch must not poison training).
/// </summary>
internal sealed class MultiheadCrossAttention : Module<Tensor, Tensor, Tensor?, Tensor>
{
    // Typed as Module<Tensor, Tensor> (not Linear) so LowRankInjector can swap in a LoRA layer.
    private Module<Tensor, Tensor> q_proj;
    private Module<Tensor, Tensor> k_proj;
    private Module<Tensor, Tensor> v_proj;
    private Module<Tensor, Tensor> out_proj;

    private readonly long _heads;
    private readonly long _headWidth;
    private readonly double _dropout;

    public MultiheadCrossAttention(long width, long heads, double dropout) : base(nameof(MultiheadCrossAttention))
    {
        _heads = heads;
        _headWidth = width / heads;
        _dropout = dropout;
        q_proj = Linear(width, width);
        k_proj = Linear(width, width);
        v_proj = Linear(width, width);
        out_proj = Linear(width, width);
        RegisterComponents();
    }

    /// <param name="query">[batch, targetLen, width].</param>
    /// <param name="source">[batch, sourceLen, width]; keys and values come from here.</param>
    /// <param name="sourceMask">[batch, sourceLen] bool (true = real), or null when nothing is padded.</param>
    /// <returns>[batch, targetLen, width].</returns>
    public override Tensor forward(Tensor query, Tensor source, Tensor? sourceMask)
    {
        using var scope = NewDisposeScope();
        long batch = query.shape[0], targetLen = query.shape[1], sourceLen = source.shape[1];

        var q = SplitHeads(q_proj.call(query), batch, targetLen);
        var k = SplitHeads(k_proj.call(source), batch, sourceLen);
        var v = SplitHeads(v_proj.call(source), batch, sourceLen);

        var scores = q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(_headWidth)); // [B, H, Lt, Ls]
        Tensor weights;
        if (sourceMask is null)
        {
            weights = functional.softmax(scores, -1);
        }
        else
        {
            var keep = sourceMask.to(ScalarType.Bool).view(batch, 1, 1, sourceLen);
            // The most negative finite value (not -inf) keeps softmax and its gradient finite for rows with no
            // real key; multiplying by the mask afterwards turns those rows' uniform weights into zeros.
            var filled = scores.masked_fill(keep.logical_not(), finfo(scores.dtype).min);
            weights = functional.softmax(filled, -1) * keep.to(scores.dtype);
        }
        AttentionCapture.Offer(this, weights);
        weights = functional.dropout(weights, _dropout, training);

        var context = weights.matmul(v).transpose(1, 2).reshape(batch, targetLen, _heads * _headWidth);
        return out_proj.call(context).MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor x, long batch, long length) =>
        x.view(batch, length, _heads, _headWidth).transpose(1, 2);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            q_proj.Dispose();
            k_proj.Dispose();
            v_proj.Dispose();
            out_proj.Dispose();
        }
        base.Dispose(disposing);
    }
}
