using System.CommandLine;
using LRCMT.Cli.Settings;

namespace LRCMT.Cli.Commands;

/// <summary>
/// The flags that override run settings, shared by <c>train</c>, <c>inspect</c>, <c>ablate</c> and the bare command.
/// A flag that is not given leaves the value from the JSON file (or the default) untouched.
/// </summary>
internal sealed class SettingsOptions
{
    internal Option<FileInfo?> Config { get; } = new("--config", "-c")
        { Description = "appsettings-style JSON file with run settings (flags override it)" };
    internal Option<string?> Data { get; } = new("--data", "-d")
        { Description = "'controlled' (built-in benchmark, default) or an MMSA features file (.pkl)" };
    internal Option<string?> Encoder { get; } = new("--encoder", "-e")
        { Description = "'minilm' (packaged ONNX MiniLM, default) or a Hugging Face folder" };
    internal Option<ModelVariant?> Variant { get; } = new("--variant")
        { Description = "Lrcmt | TextOnly | NoVisualAcousticStage | FullFineTuning | FrozenEncoder" };
    internal Option<int?> Epochs { get; } = new("--epochs") { Description = "training epochs" };
    internal Option<int?> BatchSize { get; } = new("--batch-size") { Description = "samples per step" };
    internal Option<int?> Seed { get; } = new("--seed") { Description = "seed of data generation, initialisation and shuffling" };
    internal Option<int?> MaxTokens { get; } = new("--max-tokens") { Description = "text length cap in tokens" };
    internal Option<int?> LoraRank { get; } = new("--lora-rank") { Description = "LoRA rank r" };
    internal Option<int?> TrainSize { get; } = new("--train-size") { Description = "controlled benchmark: training samples" };
    internal Option<string?> Device { get; } = new("--device") { Description = "cpu | cuda" };
    internal Option<string?> BaseDType { get; } = CreateBaseDType();
    internal Option<int?> Threads { get; } = new("--threads") { Description = "libtorch CPU threads (default 0 = auto: 1 on a busy machine, else one per core)" };

    private static Option<string?> CreateBaseDType()
    {
        var option = new Option<string?>("--base-dtype") { Description = "frozen encoder base in bf16 | fp16 | fp32 (adapters, fusion and head stay fp32)" };
        option.AcceptOnlyFromAmong("bf16", "fp16", "fp32");
        return option;
    }

    private static LRCMT.TextEncoders.BaseDType ParseBaseDType(string value) => value switch
    {
        "bf16" => LRCMT.TextEncoders.BaseDType.BFloat16,
        "fp16" => LRCMT.TextEncoders.BaseDType.Float16,
        _ => LRCMT.TextEncoders.BaseDType.Float32,
    };

    /// <summary>Adds every flag to <paramref name="command"/>.</summary>
    internal void AddTo(Command command)
    {
        foreach (var option in new Option[] { Config, Data, Encoder, Variant, Epochs, BatchSize, Seed, MaxTokens, LoraRank, TrainSize, Device, BaseDType, Threads })
            command.Options.Add(option);
    }

    /// <summary>The settings file overlaid with the flags that were given.</summary>
    internal RunSettings Resolve(ParseResult parse)
    {
        var settings = RunSettingsFile.Load(parse.GetValue(Config)?.FullName);
        if (parse.GetValue(Data) is { } data) settings.Data.Source = data;
        if (parse.GetValue(Encoder) is { } encoder) settings.Encoder.Source = encoder;
        if (parse.GetValue(Variant) is { } variant) settings.ApplyVariant(variant);
        if (parse.GetValue(Epochs) is { } epochs) settings.Training = settings.Training with { Epochs = epochs };
        if (parse.GetValue(BatchSize) is { } batch) settings.Data.BatchSize = batch;
        if (parse.GetValue(Seed) is { } seed) settings.ApplySeed(seed);
        if (parse.GetValue(MaxTokens) is { } tokens) settings.Data.MaxTextTokens = tokens;
        if (parse.GetValue(LoraRank) is { } rank) settings.Model.LoRA.Rank = rank;
        if (parse.GetValue(TrainSize) is { } size) settings.Data.Controlled.TrainCount = size;
        if (parse.GetValue(Device) is { } device) settings.Device = device;
        if (parse.GetValue(BaseDType) is { } dtype) settings.Model.TextEncoder.BaseDType = ParseBaseDType(dtype);
        if (parse.GetValue(Threads) is { } threads) settings.Threads = threads;
        RunSettingsFile.Validate(settings);
        return settings;
    }
}
