using System.Runtime.CompilerServices;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Regularization;
using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// MAG-BERT (Rahman et al., 2020, "Integrating Multimodal Information in Large Pretrained Transformers"): a multimodal
/// adaptation gate shifts the token states of a loaded BERT-family encoder after <see cref="MagSettings.InjectionLayer"/>
/// of its Transformer layers by a displacement computed from the acoustic and visual frames; the encoder's pooled output
/// then goes through dropout and a linear output layer. Forward returns [batch] scores for one output, or
/// [batch, classes] logits.
/// </summary>
/// <remarks>
/// The gate is injected without touching the encoder's code or parameter names: a forward hook on the layer it follows
/// replaces that layer's input (or, after the last layer, its output), as LoRA is injected into a loaded encoder. The
/// encoder keeps its tuning (frozen, LoRA or fully fine-tuned, as the caller prepared it); the gate and the output layer
/// always train, and gradients reach the gate through the encoder even when it is frozen. Outside this model's forward
/// pass the encoder computes plain text states. The frames are lined up with the tokens as
/// <see cref="MagSettings.Alignment"/> says. An encoder without a pooler uses the first token's state.
/// Parameter names: <c>text_encoder.*</c>, <c>gate.*</c>, <c>classifier.*</c>.
/// </remarks>
public sealed class MagBertModel : SentimentModel
{
    // Encoders that already carry a gate: two gates on one encoder would both shift its states.
    private static readonly ConditionalWeakTable<TextEncoder, object> Gated = new();

    private readonly TextEncoder text_encoder;
    private readonly MultimodalAdaptationGate gate;
    private Module<Tensor, Tensor> classifier;

    private readonly MagSettings _settings;
    private readonly long _acousticFeatures;
    private readonly long _visualFeatures;
    private readonly int _outputs;
    private readonly Action _removeHook;
    // The current forward pass's frames, lined up with the tokens; null outside it (the encoder then runs plain).
    private readonly AsyncLocal<(Tensor Acoustic, Tensor Visual)?> _frames = new();

    /// <summary>Injects the gate into <paramref name="textEncoder"/> and adds the output layer; the model owns the encoder.</summary>
    /// <param name="textEncoder">A <see cref="BertModel"/> or <see cref="RobertaModel"/>, its trainable parameters already chosen.</param>
    /// <param name="acousticFeatures">Raw acoustic feature size.</param>
    /// <param name="visualFeatures">Raw visual feature size.</param>
    /// <param name="outputs">1 for a regression score, or the number of classes for logits.</param>
    /// <param name="settings">Where the gate goes, β, dropouts and alignment; null for the published defaults.</param>
    /// <exception cref="InvalidConfigurationException">A size or setting is unusable, the encoder has no Transformer layers the
    /// gate can follow, or <see cref="MagSettings.InjectionLayer"/> exceeds its layer count.</exception>
    /// <exception cref="AdapterException">The encoder already carries a MAG gate.</exception>
    /// <remarks>
    /// A model composed this way reports what it is made of (<see cref="SentimentModel.Options"/>) but cannot be saved
    /// with its description, since the untuned encoder it started from is unknown: build it with
    /// <c>LrcmtBuilder.BuildModel()</c> (architecture MagBert) for that.
    /// </remarks>
    public MagBertModel(TextEncoder textEncoder, int acousticFeatures, int visualFeatures, int outputs = 1, MagSettings? settings = null)
        : base(nameof(MagBertModel), Describe(textEncoder, acousticFeatures, visualFeatures, outputs, settings), injection: null, baseEncoderSha256: null)
    {
        (_settings, _acousticFeatures, _visualFeatures, _outputs) = (Options.Mag, acousticFeatures, visualFeatures, outputs);
        text_encoder = textEncoder;
        gate = new MultimodalAdaptationGate(textEncoder.HiddenSize, acousticFeatures, visualFeatures, _settings.BetaShift, _settings.GateDropout);
        classifier = Linear(textEncoder.HiddenSize, outputs);
        RegisterComponents();
        _removeHook = Attach(textEncoder, _settings.InjectionLayer);
    }

    /// <summary>The gate a description names, injected into an encoder whose tuning is applied (<see cref="SentimentModel.Compose"/>).</summary>
    internal MagBertModel(TextEncoder textEncoder, LrcmtOptions options, InjectionReport? injection, string baseEncoderSha256)
        : base(nameof(MagBertModel), options, injection, baseEncoderSha256)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        options.Validate();
        (_settings, _acousticFeatures, _visualFeatures, _outputs) =
            (options.Mag, options.Modalities.AcousticFeatures, options.Modalities.VisualFeatures, options.Head.Outputs);
        // Checked before anything is built: problems are named at their place in the description.
        SettingRules.ThrowIfAny("MAG-BERT", EncoderProblems(textEncoder, _settings, $"{nameof(LrcmtOptions.Mag)}."));
        text_encoder = textEncoder;
        gate = new MultimodalAdaptationGate(textEncoder.HiddenSize, _acousticFeatures, _visualFeatures, _settings.BetaShift, _settings.GateDropout);
        classifier = Linear(textEncoder.HiddenSize, _outputs);
        RegisterComponents();
        _removeHook = Attach(textEncoder, _settings.InjectionLayer);
    }

    private static LrcmtOptions Describe(TextEncoder textEncoder, int acousticFeatures, int visualFeatures, int outputs, MagSettings? settings)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        settings ??= new MagSettings();
        var problems = new List<SettingProblem>(settings.FindProblems());
        problems.AddRange(SettingRules.Collect(
            SettingRules.AtLeast(nameof(acousticFeatures), acousticFeatures, 1),
            SettingRules.AtLeast(nameof(visualFeatures), visualFeatures, 1),
            SettingRules.AtLeast(nameof(outputs), outputs, 1)));
        problems.AddRange(EncoderProblems(textEncoder, settings, pathPrefix: ""));
        if (problems.Count > 0) throw new InvalidConfigurationException("MAG-BERT", problems);
        return Describe(textEncoder, ModelArchitecture.MagBert, acousticFeatures, visualFeatures, outputs, o => o with { Mag = settings });
    }

    // Found by type: the encoder's Transformer layers, in the order they run.
    private static List<SettingProblem> EncoderProblems(TextEncoder textEncoder, MagSettings settings, string pathPrefix)
    {
        var layers = textEncoder.modules().OfType<BertLayer>().ToList();
        if (layers.Count == 0)
            return [new SettingProblem(nameof(textEncoder), $"MAG-BERT needs a BERT-family encoder (BertModel, RobertaModel) whose Transformer layers the gate can follow; {textEncoder.GetType().Name} has none")];
        if (settings.InjectionLayer > layers.Count)
            return [new SettingProblem(pathPrefix + nameof(MagSettings.InjectionLayer), $"must be at most the encoder's {layers.Count} layers, got {settings.InjectionLayer}")];
        return [];
    }

    // Hooks the gate into the encoder (once per encoder); returns what removes the hook.
    private Action Attach(TextEncoder textEncoder, int injectionLayer)
    {
        if (Gated.TryGetValue(textEncoder, out _))
            throw new AdapterException(null, "this text encoder already carries a MAG gate; build each MagBertModel on its own encoder.");
        var remove = Hook(textEncoder.modules().OfType<BertLayer>().ToList(), injectionLayer);
        Gated.Add(textEncoder, new object());
        return remove;
    }

    /// <summary>The settings this model was built with.</summary>
    public MagSettings Settings => _settings;

    /// <summary>The text encoder (with the gate's hook and its adapters, if any).</summary>
    public override TextEncoder TextEncoder => text_encoder;

    /// <summary>Values per sample: 1 (a regression score) or the number of classes (logits).</summary>
    public int Outputs => _outputs;

    /// <summary>Predicts sentiment for a batch.</summary>
    /// <returns>[batch] scores (one output) or [batch, classes] logits.</returns>
    /// <exception cref="ShapeMismatchException">A modality's tensor or mask does not fit the model or the other modalities
    /// (with <see cref="NonverbalAlignment.AsGiven"/>: a stream whose length is not the text's).</exception>
    /// <exception cref="InvalidInputException">A modality's tensor is on another device than the model, or its features are not the model's dtype.</exception>
    public override Tensor forward(MultimodalBatch batch)
    {
        BaselineInputs.Validate(batch, _acousticFeatures, _visualFeatures, gate);
        using var scope = NewDisposeScope();
        var textMask = batch.AttentionMask;
        var acoustic = TextTimeResampling.ToText(batch.Acoustic, batch.AcousticMask, textMask, _settings.Alignment, "acoustic");
        var visual = TextTimeResampling.ToText(batch.Visual, batch.VisualMask, textMask, _settings.Alignment, "visual");

        _frames.Value = (acoustic, visual);
        TextEncoderOutput output;
        try
        {
            output = BaselineInputs.Encode(text_encoder, batch, needsGraph: true);
        }
        finally
        {
            _frames.Value = null;
        }
        var pooled = output.PooledOutput ?? output.LastHiddenState.select(1, 0);
        var prediction = classifier.call(MaskDropout.Apply(pooled, _settings.OutputDropout, training));
        return BaselineInputs.Shape(prediction, _outputs).MoveToOuterDisposeScope();
    }

    /// <summary>Removes the gate's hook from the encoder before the modules are released.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _removeHook();
            Gated.Remove(text_encoder);
        }
        base.Dispose(disposing);
    }

    // Before layer k the gate replaces the layer's input; after the last layer it replaces the last layer's output.
    private Action Hook(IReadOnlyList<BertLayer> layers, int after)
    {
        if (after < layers.Count)
        {
            var remover = layers[after].register_forward_pre_hook((_, hidden, mask) =>
                _frames.Value is { } frames ? (gate.call(hidden, frames.Acoustic, frames.Visual), mask) : null);
            return remover.remove;
        }
        var last = layers[^1].register_forward_hook((_, _, _, output) =>
            _frames.Value is { } frames ? gate.call(output, frames.Acoustic, frames.Visual) : null!); // null: unchanged
        return last.remove;
    }
}
