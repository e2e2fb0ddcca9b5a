using LRCMT.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models.Interactions;

/// <summary>
/// The "no stage 1" ablation, as in MulT: the text attends to the acoustic and to the visual sequence
/// separately (optionally each of them also attends to the text); the pooled outputs are concatenated.
/// Acoustic and visual never see each other.
/// </summary>
internal sealed class TextToEachModalityInteraction : ModalityInteraction
{
    private readonly CrossModalEncoder text_from_acoustic;
    private readonly CrossModalEncoder text_from_visual;
    private readonly CrossModalEncoder? acoustic_from_text;
    private readonly CrossModalEncoder? visual_from_text;

    private readonly long _width;

    public TextToEachModalityInteraction(CrossModalSettings settings, bool modalitiesAttendToText, Device? device = null) : base(nameof(TextToEachModalityInteraction))
    {
        _width = settings.Width;
        // Every stage here pairs the text (no clip time) with one stream: no relative-time bias, whatever the settings.
        settings = settings with { RelativeTimeBias = false };
        text_from_acoustic = new CrossModalEncoder(settings, device);
        text_from_visual = new CrossModalEncoder(settings, device);
        acoustic_from_text = modalitiesAttendToText ? new CrossModalEncoder(settings, device) : null;
        visual_from_text = modalitiesAttendToText ? new CrossModalEncoder(settings, device) : null;
        RegisterComponents();
    }

    public override long OutputWidth => acoustic_from_text is null ? 2 * _width : 4 * _width;

    public override bool UsesAcousticVisual => true;

    public override Tensor forward(MaskedSequence text, MaskedSequence? acousticInput, MaskedSequence? visualInput)
    {
        var acoustic = Required(acousticInput, "acoustic");
        var visual = Required(visualInput, "visual");
        using var scope = NewDisposeScope();

        var pools = new List<Tensor>
        {
            new MaskedSequence(text_from_acoustic.Attend(text, acoustic), text.Mask).Mean(),
            new MaskedSequence(text_from_visual.Attend(text, visual), text.Mask).Mean(),
        };
        if (acoustic_from_text is not null && visual_from_text is not null)
        {
            pools.Add(new MaskedSequence(acoustic_from_text.Attend(acoustic, text), acoustic.Mask).Mean());
            pools.Add(new MaskedSequence(visual_from_text.Attend(visual, text), visual.Mask).Mean());
        }
        return cat(pools, 1).MoveToOuterDisposeScope();
    }
}
