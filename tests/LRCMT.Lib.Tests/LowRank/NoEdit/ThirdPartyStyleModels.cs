using LRCMT.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank.NoEdit;

// Models written the way TorchSharp code outside this project usually is: projections in fields of the sealed
// Linear type, called with .forward(); the same model with replaceable field types serves as the reference.

/// <summary>BERT-style self-attention; <paramref name="sealedFields"/> picks `Linear` fields (as most ports) or `Module` fields.</summary>
internal sealed class BertStyleSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear query, key, value;
    private readonly Linear output;
    private readonly LayerNorm norm;
    private readonly long heads;

    public BertStyleSelfAttention(long width, long heads) : base(nameof(BertStyleSelfAttention))
    {
        this.heads = heads;
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        output = nn.Linear(width, width);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], seq = x.shape[1], width = x.shape[2], headDim = width / heads;
        Tensor Split(Tensor t) => t.view(batch, seq, heads, headDim).transpose(1, 2);
        var q = Split(query.forward(x));
        var k = Split(key.forward(x));
        var v = Split(value.forward(x));
        using Scalar scale = Math.Sqrt(headDim); // held: a Scalar made inline may be finalised while libtorch reads it
        var attention = q.matmul(k.transpose(-1, -2)).div(scale).softmax(-1);
        var context = attention.matmul(v).transpose(1, 2).reshape(batch, seq, width);
        return norm.forward(x.add(output.forward(context), RootedScalars.One)).MoveToOuterDisposeScope();
    }
}

/// <summary>The same attention with every projection in a replaceable field (the reference for the replacement path).</summary>
internal sealed class ReplaceableSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> query, key, value;
    private readonly nn.Module<Tensor, Tensor> output;
    private readonly LayerNorm norm;
    private readonly long heads;

    public ReplaceableSelfAttention(long width, long heads) : base(nameof(BertStyleSelfAttention))
    {
        this.heads = heads;
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        output = nn.Linear(width, width);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], seq = x.shape[1], width = x.shape[2], headDim = width / heads;
        Tensor Split(Tensor t) => t.view(batch, seq, heads, headDim).transpose(1, 2);
        var q = Split(query.call(x));
        var k = Split(key.call(x));
        var v = Split(value.call(x));
        using Scalar scale = Math.Sqrt(headDim);
        var attention = q.matmul(k.transpose(-1, -2)).div(scale).softmax(-1);
        var context = attention.matmul(v).transpose(1, 2).reshape(batch, seq, width);
        return norm.call(x.add(output.call(context), RootedScalars.One)).MoveToOuterDisposeScope();
    }
}

/// <summary>A stack of attention layers under <c>layer.N</c>, with a classifier head, like a small BERT.</summary>
internal sealed class AttentionStack : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layer;
    private readonly Linear classifier;

    public AttentionStack(bool sealedFields, long width = 8, long heads = 2, int layers = 2) : base(nameof(AttentionStack))
    {
        layer = new ModuleList<nn.Module<Tensor, Tensor>>(Enumerable.Range(0, layers)
            .Select(_ => sealedFields ? (nn.Module<Tensor, Tensor>)new BertStyleSelfAttention(width, heads) : new ReplaceableSelfAttention(width, heads)).ToArray());
        classifier = nn.Linear(width, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var l in layer) x = l.forward(x);
        return classifier.forward(x.mean([1])).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-style block: one fused qkv projection (`c_attn`) in a sealed field and a Sequential MLP.</summary>
internal sealed class GptStyleBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly Linear c_attn, c_proj;
    private readonly Sequential mlp;
    private readonly long width;

    public GptStyleBlock(long width = 8) : base(nameof(GptStyleBlock))
    {
        this.width = width;
        ln_1 = nn.LayerNorm(width);
        ln_2 = nn.LayerNorm(width);
        c_attn = nn.Linear(width, 3 * width);
        c_proj = nn.Linear(width, width);
        mlp = nn.Sequential(("c_fc", nn.Linear(width, 4 * width)), ("act", nn.GELU()), ("c_proj", nn.Linear(4 * width, width)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var qkv = c_attn.forward(ln_1.forward(x)).split(width, 2);
        long seq = x.shape[1];
        var mask = ones(seq, seq, dtype: ScalarType.Bool).tril().logical_not();
        using Scalar scale = Math.Sqrt(width), minusInfinity = float.NegativeInfinity;
        var scores = qkv[0].matmul(qkv[1].transpose(-1, -2)).div(scale).masked_fill(mask, minusInfinity);
        x = x.add(c_proj.forward(scores.softmax(-1).matmul(qkv[2])), RootedScalars.One);
        return x.add(mlp.forward(ln_2.forward(x)), RootedScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-style block with replaceable fields: the reference for <see cref="GptStyleBlock"/>.</summary>
internal sealed class ReplaceableGptBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly nn.Module<Tensor, Tensor> c_attn, c_proj;
    private readonly Sequential mlp;
    private readonly long width;

    public ReplaceableGptBlock(long width = 8) : base(nameof(GptStyleBlock))
    {
        this.width = width;
        ln_1 = nn.LayerNorm(width);
        ln_2 = nn.LayerNorm(width);
        c_attn = nn.Linear(width, 3 * width);
        c_proj = nn.Linear(width, width);
        mlp = nn.Sequential(("c_fc", nn.Linear(width, 4 * width)), ("act", nn.GELU()), ("c_proj", nn.Linear(4 * width, width)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var qkv = c_attn.call(ln_1.call(x)).split(width, 2);
        long seq = x.shape[1];
        var mask = ones(seq, seq, dtype: ScalarType.Bool).tril().logical_not();
        using Scalar scale = Math.Sqrt(width), minusInfinity = float.NegativeInfinity;
        var scores = qkv[0].matmul(qkv[1].transpose(-1, -2)).div(scale).masked_fill(mask, minusInfinity);
        x = x.add(c_proj.call(scores.softmax(-1).matmul(qkv[2])), RootedScalars.One);
        return x.add(mlp.call(ln_2.call(x)), RootedScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>A linear-like module of "someone else's": frozen weight kept as a BUFFER, bias as a parameter.</summary>
internal sealed class BufferWeightLinear : nn.Module<Tensor, Tensor>
{
    private readonly Tensor weight;
    private readonly Parameter bias;

    public BufferWeightLinear(long inFeatures, long outFeatures) : base(nameof(BufferWeightLinear))
    {
        using Scalar scale = Math.Sqrt(inFeatures), tenth = 0.1;
        weight = randn(outFeatures, inFeatures).div(scale);
        bias = new Parameter(randn(outFeatures).mul(tenth));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x.matmul(weight.t()).add(bias, RootedScalars.One);
}

/// <summary>GPT-2's Conv1D layout: weight [in, out] as a parameter, y = x·W + b.</summary>
internal sealed class Conv1DStyle : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public Conv1DStyle(long inFeatures, long outFeatures) : base(nameof(Conv1DStyle))
    {
        using Scalar scale = 0.3;
        weight = new Parameter(randn(inFeatures, outFeatures).mul(scale));
        bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => bias.addmm(x.reshape(-1, x.shape[^1]), weight).view([.. x.shape[..^1], weight.shape[1]]);
}

/// <summary>An MLP whose projections are custom linear-like modules in fields of their own (sealed) types.</summary>
internal sealed class CustomLinearMlp : nn.Module<Tensor, Tensor>
{
    private readonly BufferWeightLinear up;
    private readonly Conv1DStyle down;

    public CustomLinearMlp(long width = 8) : base(nameof(CustomLinearMlp))
    {
        up = new BufferWeightLinear(width, 2 * width);
        down = new Conv1DStyle(2 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down.forward(up.forward(x).tanh());
}

/// <summary>Holds TorchSharp's native encoder in a field of its sealed type and calls it with a mask.</summary>
internal sealed class SealedNativeEncoderModel : nn.Module<Tensor, Tensor>
{
    private readonly TransformerEncoder encoder;
    private readonly Linear head;

    public SealedNativeEncoderModel(long width = 8) : base(nameof(SealedNativeEncoderModel))
    {
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(width, 2, 16, 0.0), 2);
        head = nn.Linear(width, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.forward(encoder.call(x, null).mean([0]));
}

/// <summary>Heads kept in a ModuleList typed with the sealed Linear, indexed in forward.</summary>
internal sealed class LinearListModel : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> heads;

    public LinearListModel() : base(nameof(LinearListModel))
    {
        heads = new ModuleList<Linear>(nn.Linear(6, 6), nn.Linear(6, 6));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => heads[1].forward(heads[0].forward(x).relu());
}
