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
public sealed class LRCMTModel : SentimentModel
{
    private readonly TextEncoder text_encoder;
    private readonly ModalityProjection text_projection;
    private readonly ModalityProjection? acoustic_projection;
    private readonly ModalityProjection? visual_projection;
    private readonly ModalityInteraction interaction;
    private readonly SentimentHead head;

    /// <summary>Composes the model around an encoder whose tuning and base dtype are already applied (<see cref="SentimentModel.Compose"/>).</summary>
    /// <param name="textEncoder">The (tuned) text encoder; the model owns it.</param>
    /// <param name="options">The description it is built from (validated here).</param>
    /// <param name="injection">What the LoRA injection did, when the tuning is LoRA.</param>
    /// <param name="baseEncoderSha256">The hash of the untuned encoder's weights (a saved model checks its base against it).</param>
    /// <param name="device">Where the parts outside the encoder are created (<c>meta</c>: shapes only, see <see cref="ShapesOutsideEncoder"/>).</param>
    internal LRCMTModel(TextEncoder textEncoder, LrcmtOptions options, InjectionReport? injection, string baseEncoderSha256, Device? device = null)
        : base(nameof(LRCMTModel), options, injection, baseEncoderSha256)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Architecture != ModelArchitecture.Lrcmt)
            throw new InvalidConfigurationException("LRCMT options", [new SettingProblem(nameof(LrcmtOptions.Architecture), $"is {options.Architecture}, not Lrcmt")]);

        var width = options.Fusion.Width;
        text_encoder = textEncoder;
        text_projection = new ModalityProjection("text", textEncoder.HiddenSize, width, options.Modalities.TextKernelSize, device);
        interaction = ModalityInteraction.Create(options.Interaction, options.Fusion, device);
        if (interaction.UsesAcousticVisual)
        {
            acoustic_projection = new ModalityProjection("acoustic", options.Modalities.AcousticFeatures, width, options.Modalities.AcousticKernelSize, device);
            visual_projection = new ModalityProjection("visual", options.Modalities.VisualFeatures, width, options.Modalities.VisualKernelSize, device);
        }
        head = new SentimentHead(interaction.OutputWidth, options.Head.Outputs, options.Head.Dropout, device);
        RegisterComponents();
    }

    /// <summary>
    /// The shape of every tensor the description creates outside the text encoder (projections, interaction, head), by
    /// state-dict key, from the constructors themselves run on the meta device (no memory): what a saved model's
    /// weights file must hold, so <see cref="Load(string)"/> compares it before anything is allocated.
    /// </summary>
    /// <param name="options">The description (validated).</param>
    /// <param name="hiddenSize">The text encoder's width.</param>
    internal static Dictionary<string, long[]> ShapesOutsideEncoder(LrcmtOptions options, int hiddenSize)
    {
        using var model = new LRCMTModel(new ShapeOnlyEncoder(hiddenSize), options, null, "", META);
        var encoderPrefix = model.named_children().Single(c => ReferenceEquals(c.module, model.text_encoder)).name + ".";
        return model.state_dict().Where(kv => !kv.Key.StartsWith(encoderPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
    }

    /// <summary>A stand-in with only a width, for <see cref="ShapesOutsideEncoder"/>.</summary>
    private sealed class ShapeOnlyEncoder(int hiddenSize) : TextEncoder(nameof(ShapeOnlyEncoder))
    {
        public override int HiddenSize => hiddenSize;

        public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds) =>
            throw new InvalidOperationException("A shape-only encoder does not run.");
    }

    /// <summary>Loads an LRCMT model written by <see cref="SentimentModel.Save"/>, with the base encoder its description names.</summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.Load(string, TextEncoder?)"/>
    /// <exception cref="InvalidConfigurationException">The folder holds another architecture (load it with <see cref="SentimentModel.Load(string)"/>).</exception>
    public static new LRCMTModel Load(string folder)
    {
        RequireLrcmt(folder);
        return (LRCMTModel)SentimentModel.Load(folder);
    }

    /// <summary>Loads an LRCMT model written by <see cref="SentimentModel.Save"/> onto an encoder loaded by the caller (its weights must hash as recorded).</summary>
    /// <inheritdoc cref="Load(string)"/>
    public static new LRCMTModel Load(string folder, TextEncoder baseEncoder)
    {
        ArgumentNullException.ThrowIfNull(baseEncoder);
        RequireLrcmt(folder);
        return (LRCMTModel)SentimentModel.Load(folder, baseEncoder);
    }

    private static void RequireLrcmt(string folder)
    {
        var architecture = ReadOptions(folder).Architecture;
        if (architecture != ModelArchitecture.Lrcmt)
            throw new InvalidConfigurationException($"model '{folder}'", $"it holds a {architecture} model, not LRCMT; load it with SentimentModel.Load.");
    }

    /// <summary>The text encoder (with its adapters, if any).</summary>
    public override TextEncoder TextEncoder => text_encoder;

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
