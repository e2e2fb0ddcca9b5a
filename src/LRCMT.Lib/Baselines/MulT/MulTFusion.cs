using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.Regularization;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// MulT (Tsai et al., 2019, "Multimodal Transformer for Unaligned Multimodal Language Sequences") from the library's
/// blocks. Each stream is projected to width d by a temporal convolution; each of text, acoustic and visual is the
/// target of two cross-modal transformers whose sources are the other two streams (six in all, e.g.
/// <c>trans_l_with_a</c>: the text attends to the acoustic frames); a target's two outputs are concatenated (width 2d)
/// and run through its own self-attention transformer; the states at each stream's last real position are concatenated
/// (6d) and go through the residual output block to the prediction.
/// </summary>
/// <remarks>
/// Unaligned inputs are the point of MulT: every attention excludes padded keys, and the "last time step" is each
/// sample's last real frame (a stream that is all padding contributes zeros). Parameter names follow the published
/// code's (<c>proj_l</c>, <c>trans_a_with_v</c>, <c>trans_v_mem</c>, <c>head.proj1</c>…); docs/baselines.md lists what
/// differs from it (e.g. each cross-modal layer has its own LayerNorm for the target and for the source, which the
/// published code shares).
/// </remarks>
public sealed class MulTFusion : FusionBody
{
    private readonly ModalityProjection proj_l;
    private readonly ModalityProjection proj_a;
    private readonly ModalityProjection proj_v;
    private readonly CrossModalEncoder trans_l_with_a;
    private readonly CrossModalEncoder trans_l_with_v;
    private readonly CrossModalEncoder trans_a_with_l;
    private readonly CrossModalEncoder trans_a_with_v;
    private readonly CrossModalEncoder trans_v_with_l;
    private readonly CrossModalEncoder trans_v_with_a;
    private readonly CrossModalEncoder trans_l_mem;
    private readonly CrossModalEncoder trans_a_mem;
    private readonly CrossModalEncoder trans_v_mem;
    private readonly SentimentHead head;

    private readonly MulTSettings _settings;

    /// <summary>Builds MulT for the given stream sizes.</summary>
    /// <param name="textWidth">Width of each text state (the text encoder's hidden size).</param>
    /// <param name="acousticFeatures">Raw acoustic feature size.</param>
    /// <param name="visualFeatures">Raw visual feature size.</param>
    /// <param name="outputs">1 for a regression score, or the number of classes for logits.</param>
    /// <param name="settings">Shape and dropouts; null for the published defaults.</param>
    /// <exception cref="Errors.InvalidConfigurationException">A size or setting is unusable (every problem is listed).</exception>
    public MulTFusion(int textWidth, int acousticFeatures, int visualFeatures, int outputs = 1, MulTSettings? settings = null)
        : base(nameof(MulTFusion), textWidth, acousticFeatures, visualFeatures, outputs)
    {
        settings ??= new MulTSettings();
        settings.Validate();
        // A copy: CrossModalSettings may still be changed by its owner after this call.
        _settings = settings with { CrossModal = settings.CrossModal with { } };
        var crossModal = _settings.CrossModal;
        var width = crossModal.Width;

        proj_l = new ModalityProjection("text", textWidth, width, _settings.TextKernelSize);
        proj_a = new ModalityProjection("acoustic", acousticFeatures, width, _settings.AcousticKernelSize);
        proj_v = new ModalityProjection("visual", visualFeatures, width, _settings.VisualKernelSize);

        // The attention dropout follows the source stream, as in the published code; the time bias only pairs
        // the acoustic and visual streams (words have no clip time).
        var fromText = crossModal with { RelativeTimeBias = false };
        var fromAcoustic = crossModal with { AttentionDropout = _settings.AcousticAttentionDropout };
        var fromVisual = crossModal with { AttentionDropout = _settings.VisualAttentionDropout };
        trans_l_with_a = new CrossModalEncoder(fromAcoustic with { RelativeTimeBias = false });
        trans_l_with_v = new CrossModalEncoder(fromVisual with { RelativeTimeBias = false });
        trans_a_with_l = new CrossModalEncoder(fromText);
        trans_a_with_v = new CrossModalEncoder(fromVisual);
        trans_v_with_l = new CrossModalEncoder(fromText);
        trans_v_with_a = new CrossModalEncoder(fromAcoustic);

        var memory = fromText with { Width = 2 * width, Layers = _settings.EffectiveSelfAttentionLayers };
        trans_l_mem = new CrossModalEncoder(memory);
        trans_a_mem = new CrossModalEncoder(memory);
        trans_v_mem = new CrossModalEncoder(memory);

        head = new SentimentHead(6 * width, outputs, _settings.OutputDropout);
        RegisterComponents();
    }

    /// <summary>The settings this body was built with.</summary>
    public MulTSettings Settings => _settings with { CrossModal = _settings.CrossModal with { } };

    /// <inheritdoc />
    public override Tensor forward(MaskedSequence text, MaskedSequence acoustic, MaskedSequence visual)
    {
        CheckInputs(text, acoustic, visual);
        using var scope = NewDisposeScope();

        // The published code drops out the raw text features with the embedding dropout before projecting them.
        var textInput = MaskDropout.Apply(text.Values, _settings.CrossModal.EmbeddingDropout, training);
        var l = Project(proj_l, textInput, text.Mask);
        var a = Project(proj_a, acoustic.Values, acoustic.Mask);
        var v = Project(proj_v, visual.Values, visual.Mask);

        var lastL = Target(l, trans_l_with_a.Attend(l, a), trans_l_with_v.Attend(l, v), trans_l_mem);
        var lastA = Target(a, trans_a_with_l.Attend(a, l), trans_a_with_v.Attend(a, v), trans_a_mem);
        var lastV = Target(v, trans_v_with_l.Attend(v, l), trans_v_with_a.Attend(v, a), trans_v_mem);
        return head.call(cat([lastL, lastA, lastV], 1)).MoveToOuterDisposeScope();
    }

    private static MaskedSequence Project(ModalityProjection projection, Tensor values, Tensor mask)
    {
        var real = mask.to(ScalarType.Bool);
        return new MaskedSequence(projection.call(values, real), real);
    }

    // One target stream: its two cross-modal outputs side by side, its self-attention stack, its last real state.
    private static Tensor Target(MaskedSequence target, Tensor fromFirst, Tensor fromSecond, CrossModalEncoder selfAttention)
    {
        var joined = new MaskedSequence(cat([fromFirst, fromSecond], 2), target.Mask);
        return LastRealState.Of(new MaskedSequence(selfAttention.SelfAttend(joined), target.Mask));
    }
}
