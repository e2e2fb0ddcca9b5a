using System.Text.Json.Serialization;
using LRCMT.Configuration;
using LRCMT.Data.Synthetic;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Models;
using LRCMT.Training;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Everything one run needs, as plain data: bound from an appsettings-style JSON file, overridden by flags, and
/// written back to the run folder as config.json so <c>eval</c> and <c>train -c</c> can rebuild the run. The model and
/// trainer sections are the library's own <see cref="LrcmtOptions"/> and <see cref="TrainerOptions"/>, with the
/// library's defaults; the tool adds only what a tool needs (data, output, threads, device). The text encoder is the
/// model's (<c>Model.TextEncoder</c>); with no source there, the tool uses the packaged MiniLM.
/// </summary>
public sealed class RunSettings
{
    /// <summary>Where the samples come from and how they are batched.</summary>
    public DataSettings Data { get; set; } = new();

    /// <summary>The model (feature sizes are taken from the data at run time).</summary>
    public LrcmtOptions Model { get; set; } = new();

    /// <summary>
    /// Instead of a <see cref="Model"/> section: a saved model folder (relative to the settings file) whose description
    /// is the model section. A finished run's config.json points to its <c>model/</c> folder this way, so the run keeps
    /// its model description (and its LoRA configuration) in one place.
    /// </summary>
    public string? ModelFolder { get; set; }

    /// <summary>The optimisation schedule.</summary>
    public TrainerOptions Training { get; set; } = new();

    /// <summary><c>cpu</c> or <c>cuda</c> (needs a CUDA build: -p:TorchBackend=cuda-linux).</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// libtorch's CPU threads; 0 = auto: one thread when the machine is already busy (load average above the core
    /// count, where libtorch's spinning threads slow each other down), otherwise libtorch's default of one per core.
    /// </summary>
    public int Threads { get; set; }

    /// <summary>
    /// Written by the run into config.json (libtorch version, CPU kernels, threads, seed); ignored on input, where
    /// the run replaces it with what it finds.
    /// </summary>
    public Experiments.RunEnvironment? Environment { get; set; }

    /// <summary>
    /// Written by <c>train --resume</c> into config.json: each time the run was resumed, from which epoch and with which
    /// epoch budget, device and threads. Everything above stays as the run started; ignored on input.
    /// </summary>
    public List<Resumption> Resumptions { get; set; } = [];

    /// <summary>The run's epoch budget now: the last resumption's, or <c>Training.Epochs</c> if it was never resumed.</summary>
    [JsonIgnore]
    public int EffectiveEpochs => Resumptions.Count > 0 ? Resumptions[^1].Epochs : Training.Epochs;

    /// <summary>libtorch CPU threads: 0 (auto) up to 4 × the cores (more only makes the threads wait for each other).</summary>
    internal static SettingProblem? ThreadsRule(string path, long threads) => SettingRules.InRange(path, threads, 0, 4 * System.Environment.ProcessorCount);

    /// <summary>A seed: it seeds the generated data (an int) as well as libtorch.</summary>
    internal static SettingProblem? SeedRule(string path, long seed) => SettingRules.InRange(path, seed, 0, int.MaxValue);

    /// <summary>The architecture, interaction and encoder tuning that make up each ablation variant.</summary>
    private static readonly (ModelVariant Variant, ModelArchitecture Architecture, InteractionMode Mode, EncoderTuning Tuning)[] Variants =
    [
        (ModelVariant.Lrcmt, ModelArchitecture.Lrcmt, InteractionMode.AcousticVisualFirst, EncoderTuning.LoRA),
        (ModelVariant.TextOnly, ModelArchitecture.Lrcmt, InteractionMode.TextOnly, EncoderTuning.LoRA),
        (ModelVariant.NoVisualAcousticStage, ModelArchitecture.Lrcmt, InteractionMode.TextToEachModality, EncoderTuning.LoRA),
        (ModelVariant.FullFineTuning, ModelArchitecture.Lrcmt, InteractionMode.AcousticVisualFirst, EncoderTuning.Full),
        (ModelVariant.FrozenEncoder, ModelArchitecture.Lrcmt, InteractionMode.AcousticVisualFirst, EncoderTuning.Frozen),
        (ModelVariant.MulT, ModelArchitecture.MulT, InteractionMode.AcousticVisualFirst, EncoderTuning.LoRA),
        (ModelVariant.Tfn, ModelArchitecture.Tfn, InteractionMode.AcousticVisualFirst, EncoderTuning.LoRA),
        (ModelVariant.Lmf, ModelArchitecture.Lmf, InteractionMode.AcousticVisualFirst, EncoderTuning.LoRA),
        (ModelVariant.MagBert, ModelArchitecture.MagBert, InteractionMode.AcousticVisualFirst, EncoderTuning.LoRA),
    ];

    /// <summary>The variant a model description is (its architecture, interaction and tuning), or a description of them when it is none.</summary>
    internal static string VariantName(LrcmtOptions model)
    {
        // A baseline's fusion does not use the interaction mode: its architecture and tuning name it.
        foreach (var row in Variants)
            if (row.Architecture == model.Architecture && row.Tuning == model.TextEncoder.Tuning
                && (model.Architecture != ModelArchitecture.Lrcmt || row.Mode == model.Interaction.Mode))
                return row.Variant.ToString();
        return model.Architecture == ModelArchitecture.Lrcmt
            ? $"{model.Interaction.Mode} with a {model.TextEncoder.Tuning} encoder"
            : $"{model.Architecture} with a {model.TextEncoder.Tuning} encoder";
    }

    /// <summary>
    /// Sets the architecture, interaction and encoder tuning that make up an ablation variant (a baseline behind the
    /// same LoRA encoder, so a comparison with LRCMT isolates the fusion).
    /// </summary>
    public void ApplyVariant(ModelVariant variant)
    {
        var (_, architecture, mode, tuning) = Variants.Single(v => v.Variant == variant);
        Model = Model with
        {
            Architecture = architecture,
            Interaction = Model.Interaction with { Mode = mode },
            TextEncoder = Model.TextEncoder with { Tuning = tuning },
        };
    }

    /// <summary>One seed for the generated data, the initialisation, dropout and shuffling, so a run repeats exactly.</summary>
    public void ApplySeed(int seed)
    {
        Data.Controlled.Seed = seed;
        Training = Training with { Seed = seed };
    }
}

/// <summary>Data source and batching settings.</summary>
public sealed class DataSettings
{
    /// <summary>The word that selects the built-in controlled benchmark instead of a file.</summary>
    public const string ControlledSource = "controlled";

    /// <summary><c>controlled</c>, or the path of an MMSA features file (<c>aligned_50.pkl</c>, <c>unaligned_50.pkl</c>, …).</summary>
    public string Source { get; set; } = ControlledSource;

    /// <summary>
    /// Which MMSA dataset an MMSA file holds, which decides the metrics (CH-SIMS labels lie in [-1, 1]); null for a
    /// file means MOSI/MOSEI unless its feature sizes are CH-SIMS's (33 acoustic, 709 visual), which must be said.
    /// </summary>
    public MsaDataset? Dataset { get; set; }

    /// <summary>Text is cut to this many tokens, special tokens included.</summary>
    public int MaxTextTokens { get; set; } = 24;

    /// <summary>Samples per training step.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>For MMSA files: use the file's pre-tokenized <c>text_bert</c> ids instead of re-tokenizing <c>raw_text</c> (only valid with a bert-base-uncased vocabulary).</summary>
    public bool UseTextBert { get; set; }

    /// <summary>Controlled benchmark settings (the library's defaults: the benchmark docs/ablation.md measures).</summary>
    public ControlledBenchmarkOptions Controlled { get; set; } = new();

    /// <summary>Whether <see cref="Source"/> names the controlled benchmark.</summary>
    [JsonIgnore]
    public bool IsControlled => string.Equals(Source, ControlledSource, StringComparison.OrdinalIgnoreCase);
}
