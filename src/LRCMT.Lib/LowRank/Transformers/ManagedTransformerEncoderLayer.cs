using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// A Transformer encoder layer (self-attention + feed-forward) written in C#, with the parameter names and results of
/// TorchSharp's native <c>nn.TransformerEncoderLayer</c> (<c>self_attn.in_proj_weight</c>, <c>self_attn.out_proj.*</c>,
/// <c>linear1.*</c>, <c>linear2.*</c>, <c>norm1.*</c>, <c>norm2.*</c>), so its projections can carry LoRA.
/// It also offers what the native layer lacks: pre-norm (<c>norm_first</c>) and batch-first input.
/// </summary>
internal sealed class ManagedTransformerEncoderLayer : nn.Module<Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ManagedMultiheadAttention self_attn;
    private nn.Module<Tensor, Tensor> linear1;
    private nn.Module<Tensor, Tensor> linear2;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;

    /// <summary>Creates the layer; the defaults are the native layer's.</summary>
    /// <param name="dModel">Model width.</param>
    /// <param name="nHead">Number of attention heads.</param>
    /// <param name="dimFeedforward">Hidden width of the feed-forward block.</param>
    /// <param name="dropout">Dropout after attention, inside and after the feed-forward block, and on attention weights.</param>
    /// <param name="activation">ReLU or GELU.</param>
    /// <param name="normFirst">Layer norm before each block (pre-norm) instead of after it.</param>
    /// <param name="batchFirst">Inputs and outputs are [batch, seq, feature] instead of [seq, batch, feature].</param>
    /// <param name="layerNormEps">Epsilon of both layer norms.</param>
    public ManagedTransformerEncoderLayer(long dModel, long nHead, long dimFeedforward = 2048, double dropout = 0.1,
        nn.Activations activation = nn.Activations.ReLU, bool normFirst = false, bool batchFirst = false, double layerNormEps = 1e-5)
        : base(nameof(ManagedTransformerEncoderLayer))
    {
        if (activation is not (nn.Activations.ReLU or nn.Activations.GELU))
            throw new InvalidConfigurationException("Transformer encoder layer", $"activation must be ReLU or GELU but is {activation}.");
        SettingRules.ThrowIf("Transformer encoder layer", SettingRules.AtLeast(nameof(dimFeedforward), dimFeedforward, 1));
        self_attn = new ManagedMultiheadAttention(dModel, nHead, dropout);
        linear1 = nn.Linear(dModel, dimFeedforward);
        linear2 = nn.Linear(dimFeedforward, dModel);
        norm1 = nn.LayerNorm(dModel, layerNormEps);
        norm2 = nn.LayerNorm(dModel, layerNormEps);
        DModel = dModel;
        Dropout = dropout;
        Activation = activation;
        NormFirst = normFirst;
        BatchFirst = batchFirst;
        RegisterComponents();
    }

    /// <summary>Model width.</summary>
    public long DModel { get; }

    /// <summary>Dropout probability of the residual branches and the feed-forward block.</summary>
    public double Dropout { get; }

    /// <summary>Feed-forward activation.</summary>
    public nn.Activations Activation { get; internal set; }

    /// <summary>Whether the layer norms come before the blocks.</summary>
    public bool NormFirst { get; }

    /// <summary>Whether tensors are [batch, seq, feature].</summary>
    public bool BatchFirst { get; }

    /// <summary>The self-attention block.</summary>
    public ManagedMultiheadAttention SelfAttention => self_attn;

    /// <inheritdoc/>
    public override Tensor forward(Tensor src) => call(src, null, null);

    /// <summary>Runs the layer with an attention mask ([L, L] or [N·heads, L, L]; boolean true = blocked, or additive).</summary>
    public Tensor call(Tensor src, Tensor? src_mask) => call(src, src_mask, null);

    /// <summary>Runs the layer with an attention mask and a key padding mask ([N, L], true = padding).</summary>
    public Tensor call(Tensor src, Tensor? src_mask, Tensor? src_key_padding_mask)
    {
        if (src.dim() != 3 || src.shape[2] != DModel)
            throw new ShapeMismatchException("Transformer encoder layer input", BatchFirst ? $"[batch, seq, {DModel}]" : $"[seq, batch, {DModel}]", src.shape);

        using var scope = NewDisposeScope();
        var x = BatchFirst ? src.transpose(0, 1) : src;
        if (NormFirst)
        {
            x = x.add(AttentionBlock(norm1.call(x), src_mask, src_key_padding_mask), One);
            x = x.add(FeedForwardBlock(norm2.call(x)), One);
        }
        else
        {
            x = norm1.call(x.add(AttentionBlock(x, src_mask, src_key_padding_mask), One));
            x = norm2.call(x.add(FeedForwardBlock(x), One));
        }
        if (BatchFirst) x = x.transpose(0, 1);
        return x.MoveToOuterDisposeScope();
    }

    private Tensor AttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask)
    {
        var attended = self_attn.call(x, x, x, keyPaddingMask, need_weights: false, attn_mask: mask).Item1;
        return nn.functional.dropout(attended, Dropout, training);
    }

    private Tensor FeedForwardBlock(Tensor x)
    {
        var hidden = linear1.call(x);
        hidden = Activation == nn.Activations.GELU ? nn.functional.gelu(hidden) : nn.functional.relu(hidden);
        hidden = nn.functional.dropout(hidden, Dropout, training);
        return nn.functional.dropout(linear2.call(hidden), Dropout, training);
    }
}
