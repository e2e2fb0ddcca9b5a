using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CustomFusion;

/// <summary>
/// A fusion model that is not LRCMT: text and audio only, attending to each other in both directions (one half of
/// MulT), with the visual stream ignored. Built entirely from LRCMT.Lib's public blocks.
/// </summary>
internal sealed class TextAudioFusion : Module<MultimodalBatch, Tensor>
{
    private readonly TextEncoder text_encoder;
    private readonly ModalityProjection text_projection;
    private readonly ModalityProjection acoustic_projection;
    private readonly CrossModalEncoder text_from_audio;
    private readonly CrossModalEncoder audio_from_text;
    private readonly Module<Tensor, Tensor> regressor;

    public TextAudioFusion(TextEncoder encoder, int acousticFeatures, CrossModalSettings settings) : base(nameof(TextAudioFusion))
    {
        text_encoder = encoder;
        text_projection = new ModalityProjection("text", encoder.HiddenSize, settings.Width);
        acoustic_projection = new ModalityProjection("acoustic", acousticFeatures, settings.Width, kernelSize: 3);
        text_from_audio = new CrossModalEncoder(settings);
        audio_from_text = new CrossModalEncoder(settings);
        regressor = Linear(2 * settings.Width, 1);
        RegisterComponents();
    }

    public override Tensor forward(MultimodalBatch batch)
    {
        using var scope = NewDisposeScope();
        var textMask = batch.AttentionMask.to(ScalarType.Bool);
        var states = text_encoder.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).LastHiddenState;
        var text = new MaskedSequence(text_projection.call(states, textMask), textMask);
        var audio = new MaskedSequence(acoustic_projection.call(batch.Acoustic, batch.AcousticMask), batch.AcousticMask);

        var textPooled = new MaskedSequence(text_from_audio.Attend(text, audio), text.Mask).Mean();
        var audioPooled = new MaskedSequence(audio_from_text.Attend(audio, text), audio.Mask).Mean();
        return regressor.call(cat([textPooled, audioPooled], 1)).squeeze(1).MoveToOuterDisposeScope();
    }
}
