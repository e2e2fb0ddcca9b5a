using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Regularization;

/// <summary><see cref="MaskDropout"/> as a module, a drop-in for <c>nn.Dropout</c> (no parameters, no state-dict keys).</summary>
internal sealed class MaskDropoutModule : nn.Module<Tensor, Tensor>
{
    private readonly double _p;

    public MaskDropoutModule(double p) : base("Dropout") => _p = p;

    public override Tensor forward(Tensor input) => MaskDropout.Apply(input, _p, training);
}
