using LRCMT.Configuration;
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

    /// <summary>Creates the strategy <paramref name="interaction"/> names, with cross-modal encoders of <paramref name="fusion"/>.</summary>
    public static ModalityInteraction Create(InteractionOptions interaction, CrossModalSettings fusion, Device? device = null) => interaction.Mode switch
    {
        InteractionMode.AcousticVisualFirst => new AcousticVisualFirstInteraction(fusion, interaction.TextAttendedByMemory, device),
        InteractionMode.TextToEachModality => new TextToEachModalityInteraction(fusion, interaction.TextAttendedByMemory, device),
        InteractionMode.TextOnly => new TextOnlyInteraction(fusion.Width),
        _ => throw new ArgumentOutOfRangeException(nameof(interaction), interaction.Mode, "Unknown interaction mode."),
    };

    /// <summary>Unwraps an optional sequence that this strategy needs.</summary>
    protected static MaskedSequence Required(MaskedSequence? sequence, string modality) =>
        sequence ?? throw new ArgumentNullException(modality, $"The {modality} sequence is required by this interaction.");
}
