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
/// <see cref="Configuration.LrcmtBuilder"/>.
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

    private readonly LrcmtArchitecture _architecture;

    /// <summary>Composes the model around an encoder whose trainable parameters the caller has already chosen.</summary>
    /// <param name="textEncoder">The (tuned) text encoder; the model owns it.</param>
    /// <param name="architecture">Everything else that fixes the model's shape.</param>
    /// <param name="tuning">How the encoder was tuned (recorded for <see cref="Save"/>).</param>
    /// <param name="lora">The LoRA configuration injected, when <paramref name="tuning"/> is LoRA.</param>
    /// <param name="injection">What the injection did, when <paramref name="tuning"/> is LoRA.</param>
    /// <param name="baseEncoder">Where the encoder came from and the hash of its untuned weights.</param>
    internal LRCMTModel(TextEncoder textEncoder, LrcmtArchitecture architecture, EncoderTuning tuning = EncoderTuning.Frozen,
        LoRAConfig? lora = null, InjectionReport? injection = null, TextEncoderReference? baseEncoder = null) : base(nameof(LRCMTModel))
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(architecture);
        var problems = architecture.Problems();
        if (problems.Count > 0) throw new InvalidConfigurationException("LRCMT architecture", problems);

        _architecture = architecture;
        Tuning = tuning;
        LoRA = lora;
        Injection = injection;
        BaseEncoder = baseEncoder;
        var settings = architecture.FusionSettings;
        text_encoder = textEncoder;
        text_projection = new ModalityProjection("text", textEncoder.HiddenSize, settings.Width, architecture.TextKernelSize);
        interaction = ModalityInteraction.Create(architecture);
        if (interaction.UsesAcousticVisual)
        {
            acoustic_projection = new ModalityProjection("acoustic", architecture.AcousticFeatures, settings.Width, architecture.AcousticKernelSize);
            visual_projection = new ModalityProjection("visual", architecture.VisualFeatures, settings.Width, architecture.VisualKernelSize);
        }
        head = new SentimentHead(interaction.OutputWidth, architecture.Outputs, architecture.OutputDropout);
        RegisterComponents();
    }

    /// <summary>Loads a model written by <see cref="Save"/>, with the base encoder the folder refers to.</summary>
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
    /// Writes the model to <paramref name="folder"/> PEFT-style: <c>lrcmt_config.json</c> (the architecture with the
    /// feature sizes it was built with, the tuning, the effective LoRA configuration and a reference to the base
    /// encoder with the hash of its weights), the adapter in PEFT's format under <c>adapter/</c>, and every other
    /// weight that is not the frozen base encoder in <c>model.safetensors</c>. Load it with <see cref="Load(string)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was not built by <see cref="Configuration.LrcmtBuilder"/> (no base-encoder record).</exception>
    public void Save(string folder) => Persistence.LrcmtModelFolder.Save(this, folder);

    /// <summary>The architecture this model was built with.</summary>
    public LrcmtArchitecture Architecture => _architecture;

    /// <summary>How the text encoder is tuned: LoRA adapters, frozen, or fully fine-tuned.</summary>
    public EncoderTuning Tuning { get; }

    /// <summary>The LoRA configuration that was injected, targets resolved (null unless <see cref="Tuning"/> is LoRA).</summary>
    public LoRAConfig? LoRA { get; }

    /// <summary>What the LoRA injection did: every adapted module and the parameter counts (null unless <see cref="Tuning"/> is LoRA).</summary>
    public InjectionReport? Injection { get; }

    /// <summary>The base encoder this model was built on and the hash of its untuned weights (null for a model composed without the builder).</summary>
    public TextEncoderReference? BaseEncoder { get; }

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
        BatchValidator.Validate(batch, _architecture.AcousticFeatures, _architecture.VisualFeatures, acoustic_projection?.parameters().FirstOrDefault());
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
        if (_architecture.Head == HeadKind.Regression) prediction = prediction.squeeze(1);
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
