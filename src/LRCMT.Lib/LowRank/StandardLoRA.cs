using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>Plain LoRA: y = W·x + b + s·B·A·dropout(x). Stateless, so one instance serves every adapter.</summary>
internal sealed class StandardLoRA : ILoRAVariant
{
    public static readonly StandardLoRA Instance = new();

    private StandardLoRA() { }

    public bool NeedsDeltaWeight => false;

    public Tensor Delta(Tensor adapterInput, Tensor? baseWeight, nn.Module<Tensor, Tensor> loraA, nn.Module<Tensor, Tensor> loraB, Tensor? deltaWeight, double scaling, Tensor? projectedInput)
    {
        using Scalar s = scaling; // held through the call: see RootedScalars
        return loraB.call(HalfInputProjection.Project(loraA, adapterInput)).mul_(s); // in place: B·(A·x) is a temporary of its own; the input may be a half base's (see LoRALayer)
    }

    public void Merge(Tensor weight, Tensor deltaWeight) => weight.add_(deltaWeight, One);

    public void Unmerge(Tensor weight, Tensor deltaWeight) => weight.sub_(deltaWeight);
}
