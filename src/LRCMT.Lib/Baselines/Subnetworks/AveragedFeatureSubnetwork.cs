using LRCMT.Fusion;
using LRCMT.Regularization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Baselines;

/// <summary>
/// TFN's acoustic and visual embedding subnetwork: the frames averaged over the real ones (a stream that is all padding
/// averages to zeros), dropout, then three ReLU layers of one width.
/// </summary>
internal sealed class AveragedFeatureSubnetwork : Module<MaskedSequence, Tensor>
{
    private Module<Tensor, Tensor> linear_1;
    private Module<Tensor, Tensor> linear_2;
    private Module<Tensor, Tensor> linear_3;

    private readonly double _dropout;

    public AveragedFeatureSubnetwork(long features, long hidden, double dropout) : base(nameof(AveragedFeatureSubnetwork))
    {
        _dropout = dropout;
        linear_1 = Linear(features, hidden);
        linear_2 = Linear(hidden, hidden);
        linear_3 = Linear(hidden, hidden);
        RegisterComponents();
    }

    /// <summary>[batch, seq, features] with mask → [batch, hidden].</summary>
    public override Tensor forward(MaskedSequence frames)
    {
        using var scope = NewDisposeScope();
        var mean = new MaskedSequence(frames.Values, frames.Mask.to(ScalarType.Bool)).Mean();
        var x = functional.relu(linear_1.call(MaskDropout.Apply(mean, _dropout, training)));
        x = functional.relu(linear_2.call(x));
        return functional.relu(linear_3.call(x)).MoveToOuterDisposeScope();
    }
}
