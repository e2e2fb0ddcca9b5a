using System.Globalization;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Data.Synthetic;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Cli;

// One rule, one message: a bad value gets the library's message wherever it is caught — by the library's own type, in
// a settings file (named by its path) and on the command line (named by its flag) — before anything loads.
public class SettingMessagesTests
{
    /// <summary>A rule: its flag (null when only a settings file sets it), a bad value, the file holding it, and the library's own problem for it.</summary>
    private sealed record Rule(string? Flag, string Value, string Json, string Path, Func<SettingProblem> Library);

    private static SettingProblem Only(IReadOnlyList<SettingProblem> problems) => problems.Should().ContainSingle().Subject;

    private static SettingProblem Thrown(Action act) => Only(act.Should().Throw<InvalidConfigurationException>().Which.Problems);

    private static readonly LoRAConfig Targets = new() { TargetModules = ["query"] };

    private static readonly Dictionary<string, Rule> Rules = new()
    {
        ["lora rank"] = new("--lora-rank", "100000", """{ "Model": { "LoRA": { "Rank": 100000 } } }""", "Model.LoRA.Rank",
            () => Only((Targets with { Rank = 100_000 }).FindProblems())),
        ["lora rank below 1"] = new("--lora-rank", "0", """{ "Model": { "LoRA": { "Rank": 0 } } }""", "Model.LoRA.Rank",
            () => Only((Targets with { Rank = 0 }).FindProblems())),
        ["rank pattern"] = new(null, "70000", """{ "Model": { "LoRA": { "RankPattern": { "query": 70000 } } } }""", "Model.LoRA.RankPattern['query']",
            () => Only((Targets with { RankPattern = new Dictionary<string, int> { ["query"] = 70_000 } }).FindProblems())),
        ["epochs"] = new("--epochs", "0", """{ "Training": { "Epochs": 0 } }""", "Training.Epochs",
            () => Only(new TrainerOptions { Epochs = 0 }.FindProblems())),
        ["batch size"] = new("--batch-size", "100000", """{ "Data": { "BatchSize": 100000 } }""", "Data.BatchSize",
            () => Thrown(() => _ = new MultimodalDataLoader([Sample()], new MultimodalCollator(), batchSize: 100_000))),
        ["text tokens"] = new("--max-tokens", "1", """{ "Data": { "MaxTextTokens": 1 } }""", "Data.MaxTextTokens",
            () => Thrown(() => _ = new MultimodalCollator(maxTextLength: 1))),
        ["generated samples"] = new("--train-size", "5000000", """{ "Data": { "Controlled": { "TrainCount": 5000000 } } }""", "Data.Controlled.TrainCount",
            () => Only(new ControlledBenchmarkOptions { TrainCount = 5_000_000 }.FindProblems())),
        ["fusion width"] = new(null, "1000000", """{ "Model": { "Fusion": { "Width": 1000000, "Heads": 4 } } }""", "Model.Fusion.Width",
            () => Only(new CrossModalSettings { Width = 1_000_000, Heads = 4 }.FindProblems())),
        ["heads divide the width"] = new(null, "7", """{ "Model": { "Fusion": { "Heads": 7 } } }""", "Model.Fusion.Heads",
            () => Only(new CrossModalSettings { Heads = 7 }.FindProblems())),
        ["fusion layers"] = new(null, "5000", """{ "Model": { "Fusion": { "Layers": 5000 } } }""", "Model.Fusion.Layers",
            () => Only(new CrossModalSettings { Layers = 5000 }.FindProblems())),
        ["dropout"] = new(null, "1.5", """{ "Model": { "Fusion": { "AttentionDropout": 1.5 } } }""", "Model.Fusion.AttentionDropout",
            () => Only(new CrossModalSettings { AttentionDropout = 1.5 }.FindProblems())),
        ["odd kernel"] = new(null, "100001", """{ "Model": { "Modalities": { "AcousticKernelSize": 100001 } } }""", "Model.Modalities.AcousticKernelSize",
            () => Only(new ModalityOptions { AcousticKernelSize = 100_001 }.FindProblems())),
        ["warm-up share"] = new(null, "1", """{ "Training": { "WarmupRatio": 1 } }""", "Training.WarmupRatio",
            () => Only(new TrainerOptions { WarmupRatio = 1 }.FindProblems())),
        // The tool's own setting: no library type has it, but its rule still comes from SettingRules.
        ["threads"] = new("--threads", "100000", """{ "Threads": 100000 }""", "Threads",
            () => SettingRules.InRange("", 100_000, 0, 4 * Environment.ProcessorCount)!),
    };

    public static TheoryData<string> RuleNames() => [.. Rules.Keys];

    [Theory]
    [MemberData(nameof(RuleNames))]
    public async Task A_bad_value_gets_the_librarys_message_from_the_settings_file_and_the_flag(string rule)
    {
        var (flag, value, json, path, library) = Rules[rule];
        string message = library().Message;
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("settings.json"), json);

        // The encoder folder does not exist: validation must fail first, with the rule's message.
        var file = await CliHarness.RunAsync("train", "--config", temp.Combine("settings.json"), "--encoder", temp.Combine("no-encoder"), "--output", temp.Combine("run"));

        file.ExitCode.Should().Be(ExitCodes.ConfigurationError, file.Error);
        file.Error.Should().Contain($"{path}: {message}");
        Directory.Exists(temp.Combine("run")).Should().BeFalse();
        if (flag is null) return;

        var command = await CliHarness.RunAsync("train", flag, value, "--output", temp.Combine("run"));

        command.ExitCode.Should().Be(ExitCodes.UsageError, command.Error);
        command.Error.Should().Contain($"{flag}: {message}");
    }

    [Fact]
    public async Task The_threads_flag_stops_at_four_times_the_cores()
    {
        string limit = (4 * Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture);

        var result = await CliHarness.RunAsync("train", "--threads", (4 * Environment.ProcessorCount + 1).ToString(CultureInfo.InvariantCulture));

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain($"from 0 to {limit}, got");
    }

    private static MultimodalSample Sample() => new("s", "text", null, new float[1, 5], new float[1, 20], 0);
}
