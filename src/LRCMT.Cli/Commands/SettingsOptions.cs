using System.CommandLine;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Cli.Commands;

/// <summary>Which command the settings flags are for: each shows only the flags it uses.</summary>
internal enum SettingsScope
{
    /// <summary><c>inspect</c>: what decides the model's shape (no training flags).</summary>
    Inspect,

    /// <summary><c>train</c> and the bare command: everything, one <c>--variant</c>.</summary>
    Train,

    /// <summary><c>ablate</c>: everything except <c>--variant</c> (ablate has its own, taking several).</summary>
    Ablate,
}

/// <summary>
/// The flags that override run settings, shared by <c>train</c>, <c>inspect</c>, <c>ablate</c> and the bare command.
/// A flag that is not given leaves the value from the JSON file (or the default) untouched. Every value is checked
/// while the command line is parsed (<see cref="OptionValues"/>), and the resolved settings before anything loads.
/// </summary>
internal sealed class SettingsOptions(SettingsScope scope)
{
    internal Option<FileInfo?> Config { get; } = new("--config", "-c")
        { Description = "appsettings-style JSON file with run settings (flags override it)" };
    internal Option<string?> Data { get; } = new("--data", "-d")
        { Description = "'controlled' (built-in benchmark, default) or an MMSA features file (.pkl)" };
    internal Option<MsaDataset?> Dataset { get; } = OptionValues.Name<MsaDataset>("--dataset",
        "which MMSA dataset a .pkl file holds, for its metrics (Mosi and Mosei: [-3, 3]; Sims: [-1, 1])");
    internal Option<string?> Encoder { get; } = new("--encoder", "-e")
    {
        Description = "'minilm' (packaged ONNX MiniLM, default), a local Hugging Face folder (config.json, vocab.txt, model.safetensors or pytorch_model.bin) " +
                      "or an ONNX BERT export with vocab.txt beside it",
    };
    internal Option<string?> Preset { get; } = OptionValues.OneOf("--preset",
        "the model description to start from: the library's defaults, or the LRCMT paper's fusion (width 50, 5 heads, 5 layers, no time bias)",
        RunSettingsFile.Presets.Keys.ToArray());
    internal Option<ModelVariant?> Variant { get; } = OptionValues.Name<ModelVariant>("--variant", "model variant (default Lrcmt)");
    internal Option<int?> Epochs { get; } = OptionValues.Int("--epochs", "training epochs", SettingRules.Epochs);
    internal Option<int?> BatchSize { get; } = OptionValues.Int("--batch-size", "samples per step", SettingRules.BatchSize);
    internal Option<int?> Seed { get; } = OptionValues.Int("--seed", "seed of data generation, initialisation and shuffling", RunSettings.SeedRule);
    internal Option<int?> MaxTokens { get; } = OptionValues.Int("--max-tokens", "text length cap in tokens", SettingRules.TextTokens);
    internal Option<int?> LoraRank { get; } = OptionValues.Int("--lora-rank", "LoRA rank r", SettingRules.LoRARank);
    internal Option<int?> TrainSize { get; } = OptionValues.Int("--train-size", "controlled benchmark: training samples",
        (path, count) => SettingRules.GeneratedSamples(path, count, 1));
    internal Option<string?> Device { get; } = DeviceOption();
    internal Option<string?> BaseDType { get; } = OptionValues.OneOf("--base-dtype",
        "frozen encoder base in bf16 | fp16 | fp32 (default; adapters, fusion and head stay fp32)", "bf16", "fp16", "fp32");
    internal Option<int?> Threads { get; } = ThreadsOption();

    /// <summary>--device, shared with eval and predict.</summary>
    internal static Option<string?> DeviceOption() =>
        OptionValues.OneOf("--device", "where the model runs (cuda needs a CUDA build: see docs/getting-started.md)", "cpu", "cuda");

    /// <summary>--threads, shared with eval and predict.</summary>
    internal static Option<int?> ThreadsOption() =>
        OptionValues.Int("--threads", "libtorch CPU threads (default 0 = auto: 1 on a busy machine, else one per core)", RunSettings.ThreadsRule);

    private static LRCMT.TextEncoders.BaseDType ParseBaseDType(string value) => value switch
    {
        "bf16" => LRCMT.TextEncoders.BaseDType.BFloat16,
        "fp16" => LRCMT.TextEncoders.BaseDType.Float16,
        _ => LRCMT.TextEncoders.BaseDType.Float32,
    };

    /// <summary>The flags of this scope.</summary>
    internal IReadOnlyList<Option> All => InScope().ToList();

    private IEnumerable<Option> InScope() => scope switch
    {
        SettingsScope.Inspect => [Config, Preset, Data, Dataset, Encoder, Variant, LoraRank],
        SettingsScope.Ablate => [Config, Preset, Data, Dataset, Encoder, Epochs, BatchSize, Seed, MaxTokens, LoraRank, TrainSize, Device, BaseDType, Threads],
        _ => [Config, Preset, Data, Dataset, Encoder, Variant, Epochs, BatchSize, Seed, MaxTokens, LoraRank, TrainSize, Device, BaseDType, Threads],
    };

    /// <summary>Adds the flags of this scope to <paramref name="command"/>.</summary>
    internal void AddTo(Command command)
    {
        foreach (var option in InScope()) command.Options.Add(option);
    }

    /// <summary>
    /// The settings file overlaid with the flags that were given, validated; every problem of the file and the flags is
    /// reported together. With <paramref name="baseline"/> (a resumed run's settings), the file and flags change only
    /// what they name.
    /// </summary>
    internal RunSettings Resolve(ParseResult parse, RunSettings? baseline = null)
    {
        var problems = new List<SettingProblem>();
        string? file = parse.GetValue(Config)?.FullName;
        var settings = RunSettingsFile.Read(file, parse.GetValue(Preset), problems, baseline);
        if (parse.GetValue(Data) is { } data) settings.Data.Source = data;
        if (parse.GetValue(Dataset) is { } dataset) settings.Data.Dataset = dataset;
        if (parse.GetValue(Encoder) is { } encoder)
            settings.Model = settings.Model with { TextEncoder = EncoderLoader.Select(settings.Model.TextEncoder, encoder) };
        if (scope != SettingsScope.Ablate && parse.GetValue(Variant) is { } variant) settings.ApplyVariant(variant);
        if (parse.GetValue(Epochs) is { } epochs) settings.Training = settings.Training with { Epochs = epochs };
        if (parse.GetValue(BatchSize) is { } batch) settings.Data.BatchSize = batch;
        if (parse.GetValue(Seed) is { } seed) settings.ApplySeed(seed);
        if (parse.GetValue(MaxTokens) is { } tokens) settings.Data.MaxTextTokens = tokens;
        if (parse.GetValue(LoraRank) is { } rank) settings.Model = settings.Model with { LoRA = settings.Model.LoRA with { Rank = rank } };
        if (parse.GetValue(TrainSize) is { } size) settings.Data.Controlled.TrainCount = size;
        if (parse.GetValue(Device) is { } device) settings.Device = device;
        if (parse.GetValue(BaseDType) is { } dtype)
            settings.Model = settings.Model with { TextEncoder = settings.Model.TextEncoder with { BaseDType = ParseBaseDType(dtype) } };
        if (parse.GetValue(Threads) is { } threads) settings.Threads = threads;
        RunSettingsFile.Validate(settings, problems, file);
        return settings;
    }
}
