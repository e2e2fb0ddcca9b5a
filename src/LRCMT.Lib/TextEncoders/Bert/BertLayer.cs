using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>One Transformer layer: attention, then the feed-forward block with its residual (keys <c>encoder.layer.N.*</c>).</summary>
internal sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(BertConfig config, Device? device = null) : base("layer")
    {
        attention = new BertAttention(config, device);
        intermediate = new BertIntermediate(config, device);
        output = new BertResidualOutput(config.IntermediateSize, config, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var attended = attention.call(hidden, additiveMask);
        using var expanded = intermediate.call(attended);
        return output.call(expanded, attended);
    }
}
