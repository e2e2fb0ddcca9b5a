using LRCMT.Kernels;
using LRCMT.Attention;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>
/// Multi-head scaled dot-product self-attention (Hugging Face's <c>BertSelfAttention</c>), computed by
/// <see cref="FusedAttention"/>; the projections stay ordinary children so LoRA can replace them.
/// </summary>
internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    // Typed as the Module base, not Linear, and not readonly: LowRankInjector swaps these for LoRA layers by field name.
    private nn.Module<Tensor, Tensor> query;
    private nn.Module<Tensor, Tensor> key;
    private nn.Module<Tensor, Tensor> value;
    private readonly double _dropout;
    private readonly int heads;
    private readonly int headSize;

    public BertSelfAttention(BertConfig config, Device? device = null) : base("self")
    {
        heads = config.NumAttentionHeads;
        headSize = config.HiddenSize / config.NumAttentionHeads;
        query = nn.Linear(config.HiddenSize, config.HiddenSize, device: device);
        key = nn.Linear(config.HiddenSize, config.HiddenSize, device: device);
        value = nn.Linear(config.HiddenSize, config.HiddenSize, device: device);
        _dropout = config.AttentionProbsDropoutProb;
        RegisterComponents();
    }

    /// <param name="hidden">[batch, seq, hidden].</param>
    /// <param name="additiveMask">[batch, 1, 1, seq]: 0 on real keys, the dtype's minimum on padded keys.</param>
    /// <returns>Context vectors [batch, seq, hidden].</returns>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (hidden.size(0), hidden.size(1));
        var q = SplitHeads(CpuProjection.Call(query, hidden), batch, length);
        var k = SplitHeads(CpuProjection.Call(key, hidden), batch, length);
        var v = SplitHeads(CpuProjection.Call(value, hidden), batch, length);

        var attended = FusedAttention.Compute(q, k, v, additiveMask, _dropout, training);
        var context = attended.permute(0, 2, 1, 3).reshape(batch, length, heads * headSize);
        return context.MoveToOuterDisposeScope();
    }

    // [batch, seq, hidden] -> [batch, heads, seq, headSize]
    private Tensor SplitHeads(Tensor x, long batch, long length) =>
        x.view(batch, length, heads, headSize).permute(0, 2, 1, 3);
}
