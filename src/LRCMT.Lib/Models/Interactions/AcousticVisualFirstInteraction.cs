using LRCMT.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models.Interactions;

/// <summary>
/// LRCMT's interaction. Stage 1: acoustic attends to visual and visual attends to acoustic, so the two
/// non-verbal streams complete each other before meeting the text. Stage 2: the text attends to the
/// acoustic-visual memory (both stage-1 outputs concatenated along time); optionally the memory also attends
/// to the text. Each output is mean-pooled over its real positions and the pools are concatenated.
/// </summary>
internal sealed class AcousticVisualFirstInteraction : ModalityInteraction
{
    private readonly CrossModalEncoder acoustic_from_visual;
    private readonly CrossModalEncoder visual_from_acoustic;
    private readonly CrossModalEncoder text_from_memory;
    private readonly CrossModalEncoder? memory_from_text;

    private readonly long _width;

    public AcousticVisualFirstInteraction(CrossModalSettings settings, bool memoryAttendsToText, Device? device = null) : base(nameof(AcousticVisualFirstInteraction))
    {
        _width = settings.Width;
        acoustic_from_visual = new CrossModalEncoder(settings, device);
        visual_from_acoustic = new CrossModalEncoder(settings, device);
        // Words have no clip time: the relative-time bias belongs to the visual↔acoustic stage only.
        var textStage = settings with { RelativeTimeBias = false };
        text_from_memory = new CrossModalEncoder(textStage, device);
        memory_from_text = memoryAttendsToText ? new CrossModalEncoder(textStage, device) : null;
        RegisterComponents();
    }

    public override long OutputWidth => memory_from_text is null ? _width : 2 * _width;

    public override bool UsesAcousticVisual => true;

    public override Tensor forward(MaskedSequence text, MaskedSequence? acousticInput, MaskedSequence? visualInput)
    {
        var acoustic = Required(acousticInput, "acoustic");
        var visual = Required(visualInput, "visual");
        using var scope = NewDisposeScope();

        // Stage 1: each non-verbal stream keeps its own positions and mask, enriched by the other.
        var acousticEnriched = new MaskedSequence(acoustic_from_visual.Attend(acoustic, visual), acoustic.Mask);
        var visualEnriched = new MaskedSequence(visual_from_acoustic.Attend(visual, acoustic), visual.Mask);
        var memory = MaskedSequence.Concatenate(acousticEnriched, visualEnriched);

        // Stage 2: the text queries the joint memory.
        var pools = new List<Tensor> { new MaskedSequence(text_from_memory.Attend(text, memory), text.Mask).Mean() };
        if (memory_from_text is not null)
            pools.Add(new MaskedSequence(memory_from_text.Attend(memory, text), memory.Mask).Mean());
        return cat(pools, 1).MoveToOuterDisposeScope();
    }
}
