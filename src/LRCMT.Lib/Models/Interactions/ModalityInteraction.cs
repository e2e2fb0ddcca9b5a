using LRCMT.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models.Interactions;

/// <summary>
/// The strategy that turns the projected text, acoustic and visual sequences into one fused vector per sample.
/// Each <see cref="InteractionMode"/> is its own subclass, so <see cref="LRCMTModel"/> has no mode switches in
/// its forward pass and each ablation owns exactly the parameters it uses.
/// </summary>
internal abstract class ModalityInteraction : nn.Module<MaskedSequence, MaskedSequence?, MaskedSequence?, Tensor>
{
    protected ModalityInteraction(string name) : base(name) { }

    /// <summary>Width of the fused vector.</summary>
    public abstract long OutputWidth { get; }

    /// <summary>Whether the forward pass needs the acoustic and visual sequences.</summary>
    public abstract bool UsesAcousticVisual { get; }

    /// <summary>Creates the strategy for <paramref name="architecture"/>.</summary>
    public static ModalityInteraction Create(LrcmtArchitecture architecture) => architecture.Interaction switch
    {
        InteractionMode.AcousticVisualFirst => new AcousticVisualFirstInteraction(architecture.FusionSettings, architecture.TextAttendedByMemory),
        InteractionMode.TextToEachModality => new TextToEachModalityInteraction(architecture.FusionSettings, architecture.TextAttendedByMemory),
        InteractionMode.TextOnly => new TextOnlyInteraction(architecture.FusionSettings.Width),
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture.Interaction, "Unknown interaction mode."),
    };

    /// <summary>Unwraps an optional sequence that this strategy needs.</summary>
    protected static MaskedSequence Required(MaskedSequence? sequence, string modality) =>
        sequence ?? throw new ArgumentNullException(modality, $"The {modality} sequence is required by this interaction.");
}
