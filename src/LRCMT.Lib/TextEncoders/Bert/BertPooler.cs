using LRCMT.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>The sentence vector: <c>tanh(dense(h[:, 0]))</c> over the first ([CLS]) token (keys <c>pooler.dense.*</c>).</summary>
internal sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    // Not readonly and typed as the Module base: LowRankInjector may replace it (suffix "dense" matches it, as in PEFT).
    private nn.Module<Tensor, Tensor> dense;

    public BertPooler(BertConfig config, Device? device = null) : base("pooler")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize, device: device);
        RegisterComponents();
    }

    /// <param name="lastHiddenState">[batch, seq, hidden].</param>
    /// <returns>[batch, hidden].</returns>
    public override Tensor forward(Tensor lastHiddenState)
    {
        using var scope = NewDisposeScope();
        var first = lastHiddenState.select(1, 0);
        return CpuProjection.Call(dense, first).tanh().MoveToOuterDisposeScope();
    }
}
