using LRCMT.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>The feed-forward expansion: <c>dense</c> to the intermediate size, then the configured activation.</summary>
internal sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    // Not readonly and typed as the Module base: LowRankInjector may replace it (target "dense").
    private nn.Module<Tensor, Tensor> dense;
    private readonly Func<Tensor, Tensor> activation;

    public BertIntermediate(BertConfig config, Device? device = null) : base("intermediate")
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize, device: device);
        activation = BertActivation.FromName(config.HiddenAct);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var projected = CpuProjection.Call(dense, hidden);
        return activation(projected);
    }
}
