using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>The stack of <see cref="BertLayer"/>s (keys <c>encoder.layer.N.*</c>).</summary>
internal sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config, Device? device = null) : base("encoder")
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, device)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        // Each layer's output is released once the next layer has used it; the config guarantees at least one layer.
        var current = layer[0].call(hidden, additiveMask);
        foreach (var block in layer.Skip(1))
        {
            var next = block.call(current, additiveMask);
            current.Dispose();
            current = next;
        }

        return current;
    }
}
