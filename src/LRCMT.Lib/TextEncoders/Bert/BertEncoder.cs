using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>The stack of <see cref="BertLayer"/>s (keys <c>encoder.layer.N.*</c>).</summary>
internal sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config) : base("encoder")
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        // Each layer's input is released as soon as the next layer has used it; the caller owns the first input.
        var current = hidden;
        foreach (var block in layer)
        {
            var next = block.call(current, additiveMask);
            if (!ReferenceEquals(current, hidden)) current.Dispose();
            current = next;
        }

        return ReferenceEquals(current, hidden) ? hidden.alias() : current;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) layer.Dispose();
        base.Dispose(disposing);
    }
}
