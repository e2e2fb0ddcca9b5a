using LRCMT.Fusion;
using static TorchSharp.torch;

namespace LRCMT.Models.Interactions;

/// <summary>The "text only" ablation: the projected text states are mean-pooled; no cross-modal parameters exist.</summary>
internal sealed class TextOnlyInteraction : ModalityInteraction
{
    private readonly long _width;

    public TextOnlyInteraction(long width) : base(nameof(TextOnlyInteraction))
    {
        _width = width;
        RegisterComponents();
    }

    public override long OutputWidth => _width;

    public override bool UsesAcousticVisual => false;

    public override Tensor forward(MaskedSequence text, MaskedSequence? acoustic, MaskedSequence? visual) => text.Mean();
}
