using LRCMT.Regularization;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Models;

/// <summary>
/// MulT's output block: a two-layer residual MLP over the fused vector, then a linear layer to the outputs
/// (one score, or one logit per class).
/// </summary>
internal sealed class SentimentHead : Module<Tensor, Tensor>
{
    private Module<Tensor, Tensor> proj1;
    private Module<Tensor, Tensor> proj2;
    private Module<Tensor, Tensor> out_layer;

    private readonly double _dropout;

    public SentimentHead(long inputWidth, long outputs, double dropout, Device? device = null) : base(nameof(SentimentHead))
    {
        _dropout = dropout;
        proj1 = Linear(inputWidth, inputWidth, device: device);
        proj2 = Linear(inputWidth, inputWidth, device: device);
        out_layer = Linear(inputWidth, outputs, device: device);
        RegisterComponents();
    }

    /// <summary>[batch, inputWidth] → [batch, outputs].</summary>
    public override Tensor forward(Tensor fused)
    {
        using var scope = NewDisposeScope();
        var hidden = MaskDropout.Apply(functional.relu(proj1.call(fused)), _dropout, training);
        var refined = proj2.call(hidden).add(fused, One);
        return out_layer.call(refined).MoveToOuterDisposeScope();
    }
}
