using LRCMT.Errors;
using LRCMT.Fusion;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// Everything of a multimodal sentiment model after the text encoder: it takes the encoder's token states and the raw
/// acoustic and visual frames, each with its mask, and returns the prediction (one score, or one logit per class).
/// The baselines <see cref="MulTFusion"/>, <see cref="TfnFusion"/> and <see cref="LmfFusion"/> are fusion bodies;
/// <see cref="BaselineModel"/> puts one behind a text encoder, so every baseline is fed by the same (frozen, LoRA-adapted
/// or fine-tuned) encoder and a comparison isolates the fusion. A body can also run on precomputed text features.
/// </summary>
/// <remarks>
/// The published head of each model (MulT's residual projection, TFN's inference subnetwork, LMF's fused output) is part
/// of its body: it belongs to the model that was published. Masks are bool, true = real position; streams may have
/// different lengths (unaligned data), and a sample whose stream is all padding is allowed.
/// </remarks>
public abstract class FusionBody : nn.Module<MaskedSequence, MaskedSequence, MaskedSequence, Tensor>
{
    /// <summary>Checks the sizes the subclass is built for.</summary>
    /// <param name="name">The module's TorchSharp name.</param>
    /// <param name="textWidth">Width of each text state (the encoder's hidden size).</param>
    /// <param name="acousticFeatures">Raw acoustic feature size.</param>
    /// <param name="visualFeatures">Raw visual feature size.</param>
    /// <param name="outputs">1 for a regression score, or the number of classes (≥ 2) for logits.</param>
    /// <exception cref="InvalidConfigurationException">A size is below 1.</exception>
    private protected FusionBody(string name, int textWidth, int acousticFeatures, int visualFeatures, int outputs) : base(name)
    {
        SettingRules.ThrowIfAny($"{name} sizes", SettingRules.Collect(
            SettingRules.AtLeast(nameof(textWidth), textWidth, 1),
            SettingRules.AtLeast(nameof(acousticFeatures), acousticFeatures, 1),
            SettingRules.AtLeast(nameof(visualFeatures), visualFeatures, 1),
            SettingRules.AtLeast(nameof(outputs), outputs, 1)));
        TextWidth = textWidth;
        AcousticFeatures = acousticFeatures;
        VisualFeatures = visualFeatures;
        Outputs = outputs;
    }

    /// <summary>Width of each text state this body expects (the text encoder's hidden size).</summary>
    public int TextWidth { get; }

    /// <summary>Raw acoustic feature size.</summary>
    public int AcousticFeatures { get; }

    /// <summary>Raw visual feature size.</summary>
    public int VisualFeatures { get; }

    /// <summary>Values per sample: 1 (a regression score) or the number of classes (logits).</summary>
    public int Outputs { get; }

    /// <summary>Fuses the three streams.</summary>
    /// <param name="text">Text states [batch, textLen, <see cref="TextWidth"/>] and mask [batch, textLen].</param>
    /// <param name="acoustic">Acoustic frames [batch, acousticLen, <see cref="AcousticFeatures"/>] and mask.</param>
    /// <param name="visual">Visual frames [batch, visualLen, <see cref="VisualFeatures"/>] and mask.</param>
    /// <returns>[batch, <see cref="Outputs"/>].</returns>
    /// <exception cref="ShapeMismatchException">A stream or mask does not fit the body or the other streams.</exception>
    public abstract override Tensor forward(MaskedSequence text, MaskedSequence acoustic, MaskedSequence visual);

    /// <summary>Throws <see cref="ShapeMismatchException"/> naming the stream whose values or mask do not fit.</summary>
    private protected void CheckInputs(MaskedSequence text, MaskedSequence acoustic, MaskedSequence visual)
    {
        ArgumentNullException.ThrowIfNull(text.Values, nameof(text));
        ArgumentNullException.ThrowIfNull(text.Mask, nameof(text));
        var batch = text.Values.dim() == 3 ? text.Values.shape[0] : -1;
        CheckStream("text states", text, batch, TextWidth);
        CheckStream("acoustic features", acoustic, batch, AcousticFeatures);
        CheckStream("visual features", visual, batch, VisualFeatures);
    }

    private static void CheckStream(string what, MaskedSequence stream, long batch, long width)
    {
        var (values, mask) = stream;
        if (values is null || mask is null) throw new ArgumentNullException(what, $"The {what} and their mask are required.");
        var expected = $"[{(batch < 0 ? "batch" : batch.ToString(System.Globalization.CultureInfo.InvariantCulture))}, seq ≥ 1, {width}]";
        if (values.dim() != 3 || (batch >= 0 && values.shape[0] != batch) || values.shape[1] < 1 || values.shape[2] != width)
            throw new ShapeMismatchException(what, expected, values.shape);
        if (!values.is_floating_point())
            throw new InvalidInputException(what, $"expected a floating-point tensor but got {values.dtype}.");
        if (mask.dim() != 2 || mask.shape[0] != values.shape[0] || mask.shape[1] != values.shape[1])
            throw new ShapeMismatchException($"{what} mask", $"[{values.shape[0]}, {values.shape[1]}]", mask.shape);
    }
}
