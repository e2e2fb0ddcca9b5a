using LRCMT.Baselines;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models;

/// <summary>
/// A multimodal sentiment model behind a text encoder, built from an <see cref="LrcmtOptions"/> description:
/// <see cref="LRCMTModel"/>, or a baseline (<see cref="BaselineModel"/> for MulT, TFN and LMF, <see cref="MagBertModel"/>).
/// Whatever the architecture, a model reports its description (<see cref="Options"/>), saves itself with it
/// (<see cref="Save"/>) and loads back as the same architecture (<see cref="Load(string)"/>). Forward returns [batch]
/// scores, or [batch, classes] logits with a classification head; train any of them with <c>Trainer</c>.
/// </summary>
public abstract class SentimentModel : nn.Module<MultimodalBatch, Tensor>
{
    /// <param name="name">The module's TorchSharp name.</param>
    /// <param name="options">The description the model was built from (or, for a model composed by hand, what it is made of).</param>
    /// <param name="injection">What the LoRA injection did, when the description's tuning injected adapters.</param>
    /// <param name="baseEncoderSha256">The untuned base encoder's fingerprint; null for a model composed by hand (it cannot be saved with its description).</param>
    private protected SentimentModel(string name, LrcmtOptions options, InjectionReport? injection, string? baseEncoderSha256) : base(name)
    {
        Options = options;
        Injection = injection;
        BaseEncoderSha256 = baseEncoderSha256;
    }

    /// <summary>
    /// The description this model was built from, as built: its architecture, the encoder source as an absolute path
    /// (none when the encoder was given in code), its tuning and base dtype, the LoRA configuration injected, the feature
    /// sizes, the architecture's own section and the head. <c>LrcmtBuilder.FromOptions(model.Options).BuildModel()</c>
    /// builds the same model again. A baseline composed by hand from its constructor reports what it is made of.
    /// </summary>
    public LrcmtOptions Options { get; }

    /// <summary>What the LoRA injection did: every adapted module and the parameter counts (null unless the description's tuning injected LoRA).</summary>
    public InjectionReport? Injection { get; }

    /// <summary>SHA-256 of the untuned base encoder's weights (see <c>EncoderFingerprint</c>), recorded when the model is saved; null when composed by hand.</summary>
    internal string? BaseEncoderSha256 { get; }

    /// <summary>The text encoder (with its adapters, if any).</summary>
    public abstract TextEncoder TextEncoder { get; }

    /// <summary>Trainable and total parameter counts (PEFT's <c>print_trainable_parameters</c> line via <c>ToString()</c>).</summary>
    public ParameterReport GetParameterReport() => ParameterReport.Of(this);

    /// <summary>
    /// Writes the model to <paramref name="folder"/> PEFT-style: <c>lrcmt_config.json</c> (the whole description, sealed
    /// with its own hash, the hashes of the base encoder's weights and configuration and of every other file, and for
    /// LoRA a pointer to <c>adapter/</c>, which holds the adapter and its configuration in PEFT's format), and every
    /// other weight that is not the frozen base encoder in <c>model.safetensors</c>. Load it with <see cref="Load(string)"/>.
    /// The files are written to a hidden folder beside <paramref name="folder"/> and swapped in when complete, so a
    /// save that fails leaves a model saved there before intact. Only a new or empty folder, or one holding only a
    /// saved model, is written: a folder with other files is refused, never emptied.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was composed by hand (its base encoder's fingerprint is unknown).</exception>
    /// <exception cref="OutputFileException">
    /// The folder cannot be written (disk full, file too large, permission), or is a file, a link, or a folder holding
    /// files that are not a saved model's; what was there is left as it was.
    /// </exception>
    public void Save(string folder) => Persistence.LrcmtModelFolder.Save(this, folder);

    /// <summary>Loads a model written by <see cref="Save"/>, of whatever architecture it is, with the base encoder its description names.</summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.Load(string, TextEncoder?)"/>
    public static SentimentModel Load(string folder) => Persistence.LrcmtModelFolder.Load(folder, null);

    /// <summary>Loads a model written by <see cref="Save"/> onto an encoder loaded by the caller (its weights must hash as recorded).</summary>
    /// <inheritdoc cref="Persistence.LrcmtModelFolder.Load(string, TextEncoder?)"/>
    public static SentimentModel Load(string folder, TextEncoder baseEncoder)
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
    /// composes the architecture it names: the one path from a description to a model, taken by the builder and by
    /// <see cref="Load(string)"/>.
    /// </summary>
    internal static SentimentModel Compose(TextEncoder encoder, LrcmtOptions options, string baseEncoderSha256)
    {
        options.Validate();
        var tuning = options.TextEncoder.Tuning;
        var injection = EncoderTuner.Apply(encoder, tuning, tuning == EncoderTuning.LoRA ? options.LoRA : null);
        // The description keeps the adapter's record (what was injected, targets resolved as PEFT resolves
        // "all-linear"), so Options, the saved adapter_config.json and a reloaded model all say the same.
        if (injection is not null) options = options with { LoRA = encoder.GetAdapterConfig() };
        return options.Architecture switch
        {
            ModelArchitecture.Lrcmt => new LRCMTModel(encoder, options, injection, baseEncoderSha256),
            ModelArchitecture.MagBert => new MagBertModel(encoder, options, injection, baseEncoderSha256),
            _ => new BaselineModel(encoder, options, injection, baseEncoderSha256),
        };
    }

    /// <summary>
    /// The description of a model composed by hand from an encoder prepared by the caller: the tuning is read from the
    /// encoder (adapters: LoRA with their configuration; nothing trainable: frozen; otherwise full), so is the base dtype,
    /// and the head from the number of outputs. It has no encoder source.
    /// </summary>
    private protected static LrcmtOptions Describe(TextEncoder encoder, ModelArchitecture architecture, long acousticFeatures, long visualFeatures, int outputs,
        Func<LrcmtOptions, LrcmtOptions> section)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var adapters = encoder.AdapterConfigs();
        var tuning = adapters.Count > 0 ? EncoderTuning.LoRA
            : encoder.parameters().Any(p => p.requires_grad) ? EncoderTuning.Full : EncoderTuning.Frozen;
        var described = new LrcmtOptions
        {
            Architecture = architecture,
            TextEncoder = new TextEncoderOptions { Tuning = tuning, BaseDType = BaseDTypeOf(encoder) },
            Modalities = new ModalityOptions { AcousticFeatures = (int)acousticFeatures, VisualFeatures = (int)visualFeatures },
            Head = outputs == 1 ? new HeadOptions() : new HeadOptions { Kind = HeadKind.Classification, Classes = outputs },
        };
        if (adapters.Count > 0)
            described = described with { LoRA = adapters.TryGetValue("default", out var config) ? config : adapters.First().Value };
        return section(described);
    }

    // Found by type: an int8 base holds QuantizedLinear layers; a half base holds its frozen floating weights in that type.
    private static BaseDType BaseDTypeOf(TextEncoder encoder)
    {
        if (encoder.modules().OfType<Quantization.QuantizedLinear>().Any()) return BaseDType.Int8;
        var frozen = encoder.parameters().Where(p => !p.requires_grad && p.is_floating_point()).Select(p => p.dtype).ToHashSet();
        return frozen.Contains(ScalarType.BFloat16) ? BaseDType.BFloat16 : frozen.Contains(ScalarType.Float16) ? BaseDType.Float16 : BaseDType.Float32;
    }
}
