using LRCMT.Baselines;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;

namespace LRCMT.Configuration;

/// <summary>
/// Builds an <see cref="LRCMTModel"/> (or a baseline, <see cref="WithArchitecture"/>) step by step: pick the text
/// encoder, LoRA settings, modality sizes, fusion shape, head and ablation switches, then <see cref="Build"/> (or
/// <see cref="BuildModel"/>, for any architecture). Every step only changes the <see cref="LrcmtOptions"/>
/// the builder holds (a step that adjusts a section takes a function from the current section to the new one, e.g.
/// <c>l =&gt; l with { Rank = 16 }</c>); <see cref="Build"/> validates them all and throws one
/// <see cref="InvalidConfigurationException"/> listing every problem. A builder builds one model: reuse after a
/// successful build throws <see cref="InvalidOperationException"/>.
/// </summary>
/// <example>
/// <code>
/// using var model = new LrcmtBuilder()
///     .WithPretrainedEncoder("models/bert-base-uncased")
///     .WithLoRA(lora => lora with { Rank = 16, TargetModules = ["query", "key", "value"] })
///     .WithModalities(acousticFeatures: 5, visualFeatures: 20)
///     .Build();
/// </code>
/// </example>
public sealed class LrcmtBuilder
{
    private LrcmtOptions _options;
    private TextEncoder? _encoder;
    private bool _built;

    /// <summary>Starts from LRCMT's defaults (<c>new LrcmtOptions()</c>).</summary>
    public LrcmtBuilder() : this(new LrcmtOptions()) { }

    private LrcmtBuilder(LrcmtOptions options) => _options = options;

    /// <summary>Starts from a description: bound from configuration, a preset (<see cref="LrcmtPresets"/>), or a saved model's <see cref="SentimentModel.Options"/>.</summary>
    public static LrcmtBuilder FromOptions(LrcmtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LrcmtBuilder(options);
    }

    /// <summary>The description so far (what <see cref="Build"/> will build).</summary>
    public LrcmtOptions Options => _options;

    /// <summary>
    /// Uses an already loaded encoder (e.g. a <see cref="BertModel"/>); the model takes ownership of it. A source set
    /// in the description (<see cref="TextEncoderOptions.PretrainedFolder"/>, <see cref="TextEncoderOptions.OnnxFile"/>)
    /// is kept as the record of where this encoder came from, so a saved model can load it again; without one, load the
    /// saved model with <see cref="LRCMTModel.Load(string, TextEncoder)"/>.
    /// </summary>
    public LrcmtBuilder WithTextEncoder(TextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        EnsureNotBuilt();
        _encoder = encoder;
        return this;
    }

    /// <summary>Loads the encoder from a Hugging Face BERT folder at build time.</summary>
    public LrcmtBuilder WithPretrainedEncoder(string folder) =>
        With(o => o with { TextEncoder = o.TextEncoder with { PretrainedFolder = folder, OnnxFile = null } });

    /// <summary>Imports the encoder from an ONNX BERT export (e.g. all-MiniLM-L6-v2) at build time.</summary>
    public LrcmtBuilder WithOnnxEncoder(string onnxFile) =>
        With(o => o with { TextEncoder = o.TextEncoder with { OnnxFile = onnxFile, PretrainedFolder = null } });

    /// <summary>Freezes the encoder and injects these LoRA adapters (the configuration must name its targets).</summary>
    public LrcmtBuilder WithLoRA(LoRAConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return WithLoRA(_ => config);
    }

    /// <summary>Changes the LoRA settings (starting from LRCMT's: r=8, alpha 16 on query and value) and selects LoRA tuning.</summary>
    public LrcmtBuilder WithLoRA(Func<LoRAConfig, LoRAConfig> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return With(o => o with { LoRA = change(o.LoRA), TextEncoder = o.TextEncoder with { Tuning = EncoderTuning.LoRA } });
    }

    /// <summary>Chooses the model behind the encoder: LRCMT (the default) or a baseline (build a baseline with <see cref="BuildModel"/>).</summary>
    public LrcmtBuilder WithArchitecture(ModelArchitecture architecture) => With(o => o with { Architecture = architecture });

    /// <summary>Chooses which encoder parameters train: LoRA adapters, none (<see cref="EncoderTuning.Frozen"/>) or all.</summary>
    public LrcmtBuilder WithEncoderTuning(EncoderTuning tuning) => With(o => o with { TextEncoder = o.TextEncoder with { Tuning = tuning } });

    /// <summary>Holds the frozen encoder base in bf16/fp16 (adapters and everything after the encoder stay float32).</summary>
    public LrcmtBuilder WithBaseDType(BaseDType dtype) => With(o => o with { TextEncoder = o.TextEncoder with { BaseDType = dtype } });

    /// <summary>Sets the raw acoustic and visual feature sizes.</summary>
    public LrcmtBuilder WithModalities(int acousticFeatures, int visualFeatures) =>
        WithModalities(m => m with { AcousticFeatures = acousticFeatures, VisualFeatures = visualFeatures });

    /// <summary>Changes the modality settings (feature sizes, projection kernels).</summary>
    public LrcmtBuilder WithModalities(Func<ModalityOptions, ModalityOptions> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return With(o => o with { Modalities = change(o.Modalities) });
    }

    /// <summary>Sets the width, heads and layers of every cross-modal encoder.</summary>
    public LrcmtBuilder WithFusion(int width, int heads, int layers) =>
        WithFusion(f => f with { Width = width, Heads = heads, Layers = layers });

    /// <summary>Changes the fusion settings (dropouts, positions, time bias, feed-forward width).</summary>
    public LrcmtBuilder WithFusion(Func<CrossModalSettings, CrossModalSettings> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return With(o => o with { Fusion = change(o.Fusion) });
    }

    /// <summary>Chooses the interaction (LRCMT, MulT-like direct, text only) and whether the memory also attends to the text.</summary>
    public LrcmtBuilder WithInteraction(InteractionMode mode, bool textAttendedByMemory = false) =>
        With(o => o with { Interaction = new InteractionOptions { Mode = mode, TextAttendedByMemory = textAttendedByMemory } });

    /// <summary>Predicts one sentiment score per sample (the default).</summary>
    public LrcmtBuilder WithRegressionHead() => With(o => o with { Head = o.Head with { Kind = HeadKind.Regression } });

    /// <summary>Predicts one logit per class; the trainer reads the class count from the model.</summary>
    public LrcmtBuilder WithClassificationHead(int classes) =>
        With(o => o with { Head = o.Head with { Kind = HeadKind.Classification, Classes = classes } });

    /// <summary>Sets the dropout inside the head.</summary>
    public LrcmtBuilder WithHeadDropout(double dropout) => With(o => o with { Head = o.Head with { Dropout = dropout } });

    /// <summary>Changes the whole description at once, e.g. <c>o =&gt; o with { Head = ... }</c>.</summary>
    public LrcmtBuilder With(Func<LrcmtOptions, LrcmtOptions> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        EnsureNotBuilt();
        _options = change(_options) ?? throw new ArgumentException("The change returned no options.", nameof(change));
        return this;
    }

    /// <summary>What the LoRA injection of the built model did (null before <see cref="Build"/> and for other tunings).</summary>
    public InjectionReport? InjectionReport { get; private set; }

    /// <summary>
    /// Builds the LRCMT model the description names (<see cref="LrcmtOptions.Architecture"/> Lrcmt, the default): as
    /// <see cref="BuildModel"/>, typed as <see cref="LRCMTModel"/>.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">One or more settings are invalid (all are listed), or the architecture is a baseline (use <see cref="BuildModel"/>).</exception>
    /// <exception cref="InvalidOperationException">This builder has already built a model.</exception>
    public LRCMTModel Build()
    {
        EnsureNotBuilt();
        if (_options.Architecture != ModelArchitecture.Lrcmt)
            SettingRules.ThrowIfAny("LRCMT options", [new SettingProblem(nameof(LrcmtOptions.Architecture),
                $"is {_options.Architecture}: Build() makes an LRCMTModel; call BuildModel() for a baseline"), .. Problems()]);
        return (LRCMTModel)BuildModel();
    }

    /// <summary>
    /// Validates the description, loads the encoder if a source was given, applies the tuning (LoRA injection,
    /// freezing) and the base dtype, and composes the model of the description's architecture: an
    /// <see cref="LRCMTModel"/>, or a baseline (<see cref="BaselineModel"/> for MulT, TFN and LMF,
    /// <see cref="MagBertModel"/>). A build that fails validation leaves the builder usable, so the settings can be fixed
    /// and the model built again.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">One or more settings are invalid; all are listed.</exception>
    /// <exception cref="InvalidOperationException">This builder has already built a model.</exception>
    public SentimentModel BuildModel()
    {
        EnsureNotBuilt();
        SettingRules.ThrowIfAny("LRCMT options", Problems());
        _built = true;

        // The description records where the encoder came from as an absolute path, so a saved model finds it again.
        var options = _options with
        {
            TextEncoder = _options.TextEncoder with
            {
                PretrainedFolder = FullPathOrNull(_options.TextEncoder.PretrainedFolder),
                OnnxFile = FullPathOrNull(_options.TextEncoder.OnnxFile),
            },
        };
        var encoder = _encoder ?? LoadEncoder(options.TextEncoder);
        try
        {
            var model = SentimentModel.Compose(encoder, options, SentimentModel.PrepareBase(encoder, options));
            InjectionReport = model.Injection;
            return model;
        }
        catch
        {
            // Only dispose what this builder loaded; an encoder given in code stays the caller's.
            if (_encoder is null) encoder.Dispose();
            throw;
        }
    }

    private List<SettingProblem> Problems() =>
        _options.FindProblems().Concat(_options.SourceProblems(encoderGivenInCode: _encoder is not null)).ToList();

    private static string? FullPathOrNull(string? path) => string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);

    /// <summary>The encoder a description's source names (a Hugging Face folder or an ONNX export).</summary>
    internal static TextEncoder LoadEncoder(TextEncoderOptions source) =>
        !string.IsNullOrWhiteSpace(source.PretrainedFolder)
            ? BertModel.FromPretrained(source.PretrainedFolder)
            : OnnxBertImporter.Load(source.OnnxFile!);

    private void EnsureNotBuilt()
    {
        if (_built) throw new InvalidOperationException("This LrcmtBuilder has already built a model; create a new builder for another.");
    }
}
