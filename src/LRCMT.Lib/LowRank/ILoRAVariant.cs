using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// The part of an adapter that differs between LoRA flavours (plain LoRA, DoRA): how the adapter changes the
/// layer's output and how it folds into the frozen weight. One instance per adapter on a layer.
/// </summary>
internal interface ILoRAVariant
{
    /// <summary>
    /// What to add to the base output F.linear(x, W, b), given the adapter's (dropped-out) input. When no dropout
    /// was applied, <paramref name="projectedInput"/> is W·x already computed for the base path (else null).
    /// <paramref name="baseWeight"/> is W when <see cref="NeedsDeltaWeight"/>, else null (an int8 layer would have to
    /// dequantise it on every call for nothing).
    /// </summary>
    Tensor Delta(Tensor adapterInput, Tensor? baseWeight, nn.Module<Tensor, Tensor> loraA, nn.Module<Tensor, Tensor> loraB, Tensor? deltaWeight, double scaling, Tensor? projectedInput);

    /// <summary>Folds the adapter into <paramref name="weight"/> in place; <paramref name="deltaWeight"/> is s·B·A.</summary>
    void Merge(Tensor weight, Tensor deltaWeight);

    /// <summary>Undoes <see cref="Merge"/> in place.</summary>
    void Unmerge(Tensor weight, Tensor deltaWeight);

    /// <summary>Whether <see cref="Delta"/> needs s·B·A (DoRA does, for its norm); plain LoRA avoids forming it.</summary>
    bool NeedsDeltaWeight { get; }
}
