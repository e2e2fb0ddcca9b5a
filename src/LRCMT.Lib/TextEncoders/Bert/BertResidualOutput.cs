using LRCMT.Kernels;
using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>
/// Projection, dropout, residual add and LayerNorm. Hugging Face has two copies of this block
/// (<c>BertSelfOutput</c> after attention, <c>BertOutput</c> after the feed-forward); both have the keys
/// <c>dense</c> and <c>LayerNorm</c>, so one class serves as either.
/// </summary>
internal sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    // Not readonly and typed as the Module base: LowRankInjector may replace it (target "dense").
    private nn.Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly MaskDropoutModule dropout;

    public BertResidualOutput(long inputSize, BertConfig config, Device? device = null) : base("output")
    {
        dense = nn.Linear(inputSize, config.HiddenSize, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        dropout = new MaskDropoutModule(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <param name="hidden">The block's result [batch, seq, inputSize].</param>
    /// <param name="residual">The block's input [batch, seq, hidden].</param>
    public override Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var projected = dropout.call(CpuProjection.Call(dense, hidden));
        return LayerNorm.call(projected.add(residual, One)).MoveToOuterDisposeScope();
    }
}
