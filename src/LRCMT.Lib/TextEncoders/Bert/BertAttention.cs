using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>Self-attention followed by its residual projection (keys <c>attention.self.*</c>, <c>attention.output.*</c>).</summary>
internal sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    // "self" is a C# keyword; the verbatim identifier keeps the Hugging Face key "self".
    private readonly BertSelfAttention @self;
    private readonly BertResidualOutput output;

    public BertAttention(BertConfig config, Device? device = null) : base("attention")
    {
        @self = new BertSelfAttention(config, device);
        output = new BertResidualOutput(config.HiddenSize, config, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var context = @self.call(hidden, additiveMask);
        return output.call(context, hidden);
    }
}
