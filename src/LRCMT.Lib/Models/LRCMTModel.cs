using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Models.Interactions;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models;

/// <summary>
/// LRCMT: a (LoRA-adapted) pretrained text encoder, per-modality projections to a shared width, the
/// acoustic-visual-first cross-modal interaction and a prediction head. Forward returns [batch] sentiment
/// scores, or [batch, classes] logits with a classification head. Build one with
/// <see cref="LrcmtBuilder"/> from an <see cref="LrcmtOptions"/> description.
/// </summary>
/// <remarks>
/// Parameter names: <c>text_encoder.*</c> (the encoder's own Hugging Face names, adapters contain <c>lora_</c>),
/// <c>text_projection.*</c>, <c>acoustic_projection.*</c>, <c>visual_projection.*</c>, <c>interaction.*</c>,
/// <c>head.*</c>.
/// </remarks>
public sealed class LRCMTModel : nn.Module<MultimodalBatch, Tensor>
{
    private readonly TextEncoder text_encoder;
    private readonly ModalityProjection text_projection;
    private readonly ModalityProjection? acoustic_projection;
    private readonly ModalityProjection? visual_projection;
    private readonly ModalityInteraction interaction;
    private readonly SentimentHead head;

    /// <summary>Composes the model around an encoder whose tuning and base dtype are already applied.</summary>
    /// <param name="textEncoder">The (tuned) text encoder; the model owns it.</param>
    /// <param name="options">The description it is built from (validated here).</param>
    /// <param name="injection">What the LoRA injection did, when the tuning is LoRA.</param>
    /// <param name="baseEncoderSha256">The hash of the untuned encoder's weights (a saved model checks its base against it).</param>
    private LRCMTModel(TextEncoder textEncoder, LrcmtOptions options, InjectionReport? injection, string baseEncoderSha256) : base(nameof(LRCMTModel))
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        Options = options;
        Injection = injection;
        BaseEncoderSha256 = baseEncoderSha256;
        var width = options.Fusion.Width;
        text_encoder = textEncoder;
        text_projection = new ModalityProjection("text", textEncoder.HiddenSize, width, options.Modalities.TextKernelSize);
        interaction = ModalityInteraction.Create(options.Interaction, options.Fusion);
        if (interaction.UsesAcousticVisual)
        {
            acoustic_projection = new ModalityProjection("acoustic", options.Modalities.AcousticFeatures, width, options.Modalities.AcousticKernelSize);
            visual_projection = new ModalityProjection("visual", options.Modalities.VisualFeatures, width, options.Modalities.VisualKernelSize);
        }
        head = new SentimentHead(interaction.OutputWidth, options.Head.Outputs, options.Head.Dropout);
        RegisterComponents();
    }

    /// <summary>
    /// Puts the untuned base encoder in the description's base dtype (frozen first unless it stays float32; an encoder
    /// already loaded in that dtype is left as it is) and returns the fingerprint of the base as the model will hold it.
    /// The conversion and the int8 quantization are deterministic, so a base loaded straight into its dtype and one
    /// converted here hash alike. The builder and <see cref="Load(string)"/> both call this before <see cref="Compose"/>.
    /// </summary>
    internal static string PrepareBase(TextEncoder encoder, LrcmtOptions options)
    {
        options.Validate();
        var dtype = options.TextEncoder.BaseDType;
        if (dtype != BaseDType.Float32)
            foreach (var parameter in encoder.parameters()) parameter.requires_grad = false;
        BasePrecision.Apply(encoder, dtype);
        return Persistence.EncoderFingerprint.Compute(encoder);
    }

    /// <summary>
    /// Applies the description's tuning (LoRA injection or freezing) to a base prepared by <see cref="PrepareBase"/> and
    /// composes the model: the one path from a description to a model, taken by the builder and by <see cref="Load(string)"/>.
    /// </summary>
    internal static LRCMTModel Compose(TextEncoder encoder, LrcmtOptions options, string baseEncoderSha256)
    {
        options.Validate();
        var tuning = options.TextEncoder.Tuning;
        var injection = EncoderTuner.Apply(encoder, tuning, tuning == EncoderTuning.LoRA ? options.LoRA : null);
        // The description keeps the adapter's record (what was injected, targets resolved as PEFT resolves
        // "all-linear"), so Options, the saved adapter_config.json and a reloaded model all say the same.
        if (injection is not null) options = options with { LoRA = encoder.GetAdapterConfig() };
        return new LRCMTModel(encoder, options, injection, baseEncoderSha256);
    }

    /// <summary>Loads a model written by <see cref="Save"/>, with the base encoder its description names.</summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.Load(string, TextEncoder?)"/>
    public static LRCMTModel Load(string folder) => Persistence.LrcmtModelFolder.Load(folder, null);

    /// <summary>Loads a model written by <see cref="Save"/> onto an encoder loaded by the caller (its weights must hash as recorded).</summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.Load(string, TextEncoder?)"/>
    public static LRCMTModel Load(string folder, TextEncoder baseEncoder)
    {
        ArgumentNullException.ThrowIfNull(baseEncoder);
        return Persistence.LrcmtModelFolder.Load(folder, baseEncoder);
    }

    /// <summary>
    /// The description of a model written by <see cref="Save"/>, read without loading any weights (a folder written
    /// by an earlier release is converted).
    /// </summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.ReadOptions(string)"/>
    public static LrcmtOptions ReadOptions(string folder) => Persistence.LrcmtModelFolder.ReadOptions(folder);

    /// <summary>
    /// Writes the model to <paramref name="folder"/> PEFT-style: <c>lrcmt_config.json</c> (the whole description, the
    /// hash of the base encoder's weights, and for LoRA a pointer to <c>adapter/</c>, which holds the adapter and its
    /// configuration in PEFT's format), and every other weight that is not the frozen base encoder in
    /// <c>model.safetensors</c>. Load it with <see cref="Load(string)"/>.
    /// </summary>
    public void Save(string folder) => Persistence.LrcmtModelFolder.Save(this, folder);

    /// <summary>
    /// The description this model was built from, as built: the encoder source as an absolute path (none when the
    /// encoder was given in code), its tuning and base dtype, the LoRA configuration injected, the feature sizes,
    /// fusion, interaction and head. <c>LrcmtBuilder.FromOptions(model.Options)</c> builds the same model again.
    /// </summary>
    public LrcmtOptions Options { get; }

    /// <summary>What the LoRA injection did: every adapted module and the parameter counts (null unless the tuning is LoRA).</summary>
    public InjectionReport? Injection { get; }

    /// <summary>SHA-256 of the untuned base encoder's weights (see <c>EncoderFingerprint</c>), recorded when the model is saved.</summary>
    internal string BaseEncoderSha256 { get; }

    /// <summary>The text encoder (with its adapters, if any).</summary>
    public TextEncoder TextEncoder => text_encoder;

    /// <summary>Trainable and total parameter counts (PEFT's <c>print_trainable_parameters</c> line via <c>ToString()</c>).</summary>
    public ParameterReport GetParameterReport() => ParameterReport.Of(this);

    /// <summary>Predicts sentiment for a batch.</summary>
    /// <returns>[batch] scores (regression) or [batch, classes] logits (classification).</returns>
    /// <exception cref="ShapeMismatchException">A modality's tensor or mask does not fit the model or the other modalities.</exception>
    /// <exception cref="InvalidInputException">A modality's tensor is on another device than the model, or its features are not the model's dtype.</exception>
    public override Tensor forward(MultimodalBatch batch)
    {
        BatchValidator.Validate(batch, Options.Modalities.AcousticFeatures, Options.Modalities.VisualFeatures, acoustic_projection?.parameters().FirstOrDefault());
        using var scope = NewDisposeScope();

        var textMask = batch.AttentionMask.to(ScalarType.Bool);
        var text = new MaskedSequence(text_projection.call(EncodeText(batch), textMask), textMask);

        MaskedSequence? acoustic = null, visual = null;
        if (acoustic_projection is not null && visual_projection is not null)
        {
            var acousticMask = batch.AcousticMask.to(ScalarType.Bool);
            var visualMask = batch.VisualMask.to(ScalarType.Bool);
            acoustic = new MaskedSequence(acoustic_projection.call(batch.Acoustic, acousticMask), acousticMask);
            visual = new MaskedSequence(visual_projection.call(batch.Visual, visualMask), visualMask);
        }

        var prediction = head.call(interaction.call(text, acoustic, visual));
        if (Options.Head.Kind == HeadKind.Regression) prediction = prediction.squeeze(1);
        return prediction.MoveToOuterDisposeScope();
    }

    private Tensor EncodeText(MultimodalBatch batch)
    {
        // A fully frozen encoder (no adapters, no fine-tuning) needs no graph: skipping it saves most of the memory.
        var encoderTrains = text_encoder.parameters().Any(p => p.requires_grad);
        using var gradientMode = encoderTrains ? null : no_grad();
        var states = text_encoder.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).LastHiddenState;
        if (states.dtype != ScalarType.Float32) states = states.to(ScalarType.Float32); // a bf16/fp16 base (BasePrecision)
        var expected = batch.InputIds.shape;
        if (states.dim() != 3 || states.shape[0] != expected[0] || states.shape[1] != expected[1] || states.shape[2] != text_encoder.HiddenSize)
            throw new ShapeMismatchException("text encoder output", $"[{expected[0]}, {expected[1]}, {text_encoder.HiddenSize}]", states.shape);
        return states;
    }
}
