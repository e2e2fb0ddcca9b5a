using LRCMT.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

// Small modules laid out like Hugging Face BERT (encoder.layer.N.attention.self.query …), for injector tests.

internal sealed class ToySelfAttention : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> query, key, value;

    public ToySelfAttention(long width) : base(nameof(ToySelfAttention))
    {
        query = nn.Linear(width, width);
        key = nn.Linear(width, width);
        value = nn.Linear(width, width);
        RegisterComponents();
    }

    // RootedScalars.One: the alpha that add(other) would make inline may be finalised while libtorch reads it.
    public override Tensor forward(Tensor x) => query.call(x).mul(key.call(x)).add(value.call(x), RootedScalars.One);
}

internal sealed class ToyAttention : nn.Module<Tensor, Tensor>
{
    private readonly ToySelfAttention @self;

    public ToyAttention(long width) : base(nameof(ToyAttention))
    {
        @self = new ToySelfAttention(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => @self.call(x);
}

internal sealed class ToyLayer : nn.Module<Tensor, Tensor>
{
    private readonly ToyAttention attention;
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm norm;

    public ToyLayer(long width) : base(nameof(ToyLayer))
    {
        attention = new ToyAttention(width);
        dense = nn.Linear(width, width);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => norm.call(x.add(dense.call(attention.call(x)), RootedScalars.One));
}

internal sealed class ToyEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ToyLayer> layer;

    public ToyEncoder(long width, int layers) : base(nameof(ToyEncoder))
    {
        layer = new ModuleList<ToyLayer>(Enumerable.Range(0, layers).Select(_ => new ToyLayer(width)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var l in layer) x = l.call(x);
        return x;
    }
}

internal sealed class ToyBert : nn.Module<Tensor, Tensor>
{
    private readonly ToyEncoder encoder;
    private nn.Module<Tensor, Tensor> classifier;

    public ToyBert(long width = 8, int layers = 2) : base(nameof(ToyBert))
    {
        encoder = new ToyEncoder(width, layers);
        classifier = nn.Linear(width, 3);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => classifier.call(encoder.call(x));
}

/// <summary>Declares its projection as the sealed Linear type, which cannot hold a LoRA layer.</summary>
internal sealed class SealedFieldModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj;

    public SealedFieldModel() : base(nameof(SealedFieldModel))
    {
        proj = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => proj.call(x);
}

/// <summary>Holds a native TorchSharp encoder behind a replaceable field, as users should.</summary>
internal sealed class NativeEncoderModel : nn.Module<Tensor, Tensor>
{
    private nn.IModule<Tensor, Tensor> encoder;
    private nn.Module<Tensor, Tensor> head;

    public NativeEncoderModel(long width, long heads, int layers, nn.Activations activation = nn.Activations.ReLU) : base(nameof(NativeEncoderModel))
    {
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(width, heads, 2 * width, 0.0, activation), layers);
        head = nn.Linear(width, 1);
        RegisterComponents();
    }

    public nn.IModule<Tensor, Tensor> Encoder => encoder;

    public override Tensor forward(Tensor x) => head.call(encoder.call(x));
}
