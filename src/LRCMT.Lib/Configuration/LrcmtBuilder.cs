using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.Models.Persistence;
using LRCMT.TextEncoders;

namespace LRCMT.Configuration;

/// <summary>
/// Builds an <see cref="LRCMTModel"/> step by step: pick the text encoder, LoRA settings, modality sizes, fusion
/// shape, head and ablation switches, then <see cref="Build"/>. Every step only records a setting;
/// <see cref="Build"/> validates them all and throws one <see cref="InvalidConfigurationException"/> listing every
/// problem. A builder builds one model: reuse after a successful build throws <see cref="InvalidOperationException"/>.
/// </summary>
/// <example>
/// <code>
/// using var model = new LrcmtBuilder()
///     .WithPretrainedEncoder("models/bert-base-uncased")
///     .WithLoRA(lora => { lora.Rank = 8; lora.TargetModules = ["query", "value"]; })
///     .WithModalities(acousticFeatures: 5, visualFeatures: 20)
///     .WithFusion(width: 50, heads: 5, layers: 5)
///     .Build();
/// </code>
/// </example>
public sealed class LrcmtBuilder
{
    private readonly LrcmtOptions _options;
    private TextEncoder? _encoder;
    private bool _built;

    /// <summary>Starts from LRCMT's defaults (CMU-MOSI feature sizes, LoRA r=8 on query/value, width 50, 5 heads, 5 layers).</summary>
    public LrcmtBuilder() : this(new LrcmtOptions()) { }

    private LrcmtBuilder(LrcmtOptions options) => _options = options;

    /// <summary>Starts from bound options (e.g. appsettings.json); the builder works on a copy.</summary>
    public static LrcmtBuilder FromOptions(LrcmtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LrcmtBuilder(options.DeepCopy());
    }

    /// <summary>The settings collected so far.</summary>
    internal LrcmtOptions Options => _options;

    /// <summary>Uses an already loaded encoder (e.g. a <see cref="BertModel"/>); the model takes ownership of it.</summary>
    public LrcmtBuilder WithTextEncoder(TextEncoder encoder) => Set(() =>
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
    });

    /// <summary>Loads the encoder from a Hugging Face BERT folder at build time.</summary>
    public LrcmtBuilder WithPretrainedEncoder(string folder) => Set(() =>
    {
        _options.TextEncoder.PretrainedFolder = folder;
        _options.TextEncoder.OnnxFile = null;
    });

    /// <summary>Imports the encoder from an ONNX BERT export (e.g. all-MiniLM-L6-v2) at build time.</summary>
    public LrcmtBuilder WithOnnxEncoder(string onnxFile) => Set(() =>
    {
        _options.TextEncoder.OnnxFile = onnxFile;
        _options.TextEncoder.PretrainedFolder = null;
    });

    /// <summary>Freezes the encoder and injects these LoRA adapters (the configuration must name its targets).</summary>
    public LrcmtBuilder WithLoRA(LoRAConfig config) => Set(() =>
    {
        ArgumentNullException.ThrowIfNull(config);
        _options.LoRA = config;
        _options.TextEncoder.Tuning = EncoderTuning.LoRA;
    });

    /// <summary>Adjusts the LoRA settings in place (starting from LRCMT's: r=8 on query and value) and selects LoRA tuning.</summary>
    public LrcmtBuilder WithLoRA(Action<LoRAConfig> configure) => Set(() =>
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options.LoRA);
        _options.TextEncoder.Tuning = EncoderTuning.LoRA;
    });

    /// <summary>Chooses which encoder parameters train: LoRA adapters, none (<see cref="EncoderTuning.Frozen"/>) or all.</summary>
    public LrcmtBuilder WithEncoderTuning(EncoderTuning tuning) => Set(() => _options.TextEncoder.Tuning = tuning);

    /// <summary>Holds the frozen encoder base in bf16/fp16 (adapters and everything after the encoder stay float32).</summary>
    public LrcmtBuilder WithBaseDType(BaseDType dtype) => Set(() => _options.TextEncoder.BaseDType = dtype);

    /// <summary>Sets the raw acoustic and visual feature sizes.</summary>
    public LrcmtBuilder WithModalities(int acousticFeatures, int visualFeatures) => Set(() =>
    {
        _options.Modalities.AcousticFeatures = acousticFeatures;
        _options.Modalities.VisualFeatures = visualFeatures;
    });

    /// <summary>Adjusts the modality settings (feature sizes, projection kernels).</summary>
    public LrcmtBuilder WithModalities(Action<ModalityOptions> configure) => Set(() =>
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options.Modalities);
    });

    /// <summary>Sets the width, heads and layers of every cross-modal encoder.</summary>
    public LrcmtBuilder WithFusion(int width, int heads, int layers) => Set(() =>
    {
        _options.Fusion.Width = width;
        _options.Fusion.Heads = heads;
        _options.Fusion.Layers = layers;
    });

    /// <summary>Adjusts every fusion setting (dropouts, positions, feed-forward width).</summary>
    public LrcmtBuilder WithFusion(Action<CrossModalSettings> configure) => Set(() =>
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options.Fusion);
    });

    /// <summary>Chooses the interaction (LRCMT, MulT-like direct, text only) and whether the memory also attends to the text.</summary>
    public LrcmtBuilder WithInteraction(InteractionMode mode, bool textAttendedByMemory = false) => Set(() =>
    {
        _options.Interaction.Mode = mode;
        _options.Interaction.TextAttendedByMemory = textAttendedByMemory;
    });

    /// <summary>Predicts one sentiment score per sample (the default).</summary>
    public LrcmtBuilder WithRegressionHead() => Set(() => _options.Head.Kind = HeadKind.Regression);

    /// <summary>Predicts one logit per class.</summary>
    public LrcmtBuilder WithClassificationHead(int classes) => Set(() =>
    {
        _options.Head.Kind = HeadKind.Classification;
        _options.Head.Classes = classes;
    });

    /// <summary>Sets the dropout inside the head.</summary>
    public LrcmtBuilder WithHeadDropout(double dropout) => Set(() => _options.Head.Dropout = dropout);

    /// <summary>What the LoRA injection of the built model did (null before <see cref="Build"/> and for other tunings).</summary>
    public InjectionReport? InjectionReport { get; private set; }

    /// <summary>
    /// Validates every setting, loads the encoder if a source was given, applies the tuning (LoRA injection,
    /// freezing) and composes the model. A build that fails validation leaves the builder usable, so the settings
    /// can be fixed and <see cref="Build"/> called again.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">One or more settings are invalid; all are listed.</exception>
    /// <exception cref="InvalidOperationException">This builder has already built a model.</exception>
    public LRCMTModel Build()
    {
        EnsureNotBuilt();
        var problems = LrcmtOptionsValidator.AllProblems(_options, encoderGivenInCode: _encoder is not null);
        if (problems.Count > 0) throw new InvalidConfigurationException("LRCMT model", problems);
        _built = true;

        var encoder = _encoder ?? LoadEncoder(_options.TextEncoder);
        try
        {
            var reference = new TextEncoderReference(
                _encoder is null ? NullIfBlank(_options.TextEncoder.PretrainedFolder) : null,
                _encoder is null ? NullIfBlank(_options.TextEncoder.OnnxFile) : null,
                EncoderFingerprint.Compute(encoder));
            var tuning = _options.TextEncoder.Tuning;
            var lora = tuning == EncoderTuning.LoRA ? LoRAConfigs.Copy(_options.LoRA) : null;
            InjectionReport = EncoderTuner.Apply(encoder, tuning, lora);
            BasePrecision.Apply(encoder, _options.TextEncoder.BaseDType);
            return new LRCMTModel(encoder, _options.ToArchitecture(), tuning, lora, InjectionReport, reference);
        }
        catch
        {
            // Only dispose what this builder loaded; an encoder given in code stays the caller's.
            if (_encoder is null) encoder.Dispose();
            throw;
        }
    }

    private static string? NullIfBlank(string? path) => string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);

    private static TextEncoder LoadEncoder(TextEncoderOptions source) =>
        !string.IsNullOrWhiteSpace(source.PretrainedFolder)
            ? BertModel.FromPretrained(source.PretrainedFolder)
            : OnnxBertImporter.Load(source.OnnxFile!);

    private LrcmtBuilder Set(Action change)
    {
        EnsureNotBuilt();
        change();
        return this;
    }

    private void EnsureNotBuilt()
    {
        if (_built) throw new InvalidOperationException("This LrcmtBuilder has already built a model; create a new builder for another.");
    }
}
