using FluentAssertions;
using LRCMT.Cli;
using Xunit;

namespace LRCMT.Tests.Cli;

// A flag or a settings value that would size memory or threads past what one machine can hold is refused while
// parsing or validating, in the user's terms, before any data is generated or a tensor allocated.
public class ResourceLimitsTests
{
    [Theory]
    [InlineData("--lora-rank", "100000", "--lora-rank: must be from 1 to 4096, got 100000")]
    [InlineData("--lora-rank", "0", "--lora-rank: must be from 1 to 4096, got 0")]
    [InlineData("--threads", "100000", "--threads: must be from 0 to ")]
    [InlineData("--train-size", "5000000", "--train-size: must be from 1 to 1000000, got 5000000")]
    [InlineData("--batch-size", "1000000", "--batch-size: must be from 1 to 65536, got 1000000")]
    public async Task An_unbounded_resource_flag_is_a_usage_error(string flag, string value, string expected)
    {
        var result = await CliHarness.RunAsync("train", flag, value);

        result.ExitCode.Should().Be(ExitCodes.UsageError, result.Error);
        result.Error.Should().Contain(expected);
    }

    [Fact]
    public async Task The_threads_flag_stops_at_four_times_the_cores()
    {
        string limit = (4 * Environment.ProcessorCount).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var result = await CliHarness.RunAsync("train", "--threads", (4 * Environment.ProcessorCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain($"from 0 to {limit}, got");
    }

    [Theory]
    [InlineData("""{ "Model": { "LoRA": { "Rank": 100000 } } }""", "Model.LoRA.Rank: must be from 1 to 4096, got 100000")]
    [InlineData("""{ "Model": { "LoRA": { "RankPattern": { "query": 70000 } } } }""", "Model.LoRA.RankPattern['query']: must be from 1 to 4096, got 70000")]
    [InlineData("""{ "Model": { "Fusion": { "Width": 1000000, "Heads": 4 } } }""", "Model.Fusion.Width: must be from 1 to 65536, got 1000000")]
    [InlineData("""{ "Model": { "Fusion": { "Layers": 5000 } } }""", "Model.Fusion.Layers: must be from 1 to 1024, got 5000")]
    [InlineData("""{ "Model": { "Fusion": { "FeedForwardMultiplier": 100000 } } }""", "Model.Fusion.FeedForwardMultiplier: must be from 1 to 1024, got 100000")]
    [InlineData("""{ "Model": { "Modalities": { "AcousticKernelSize": 100001 } } }""", "Model.Modalities.AcousticKernelSize: must be an odd number from 1 to 1023 (so the sequence length is kept), got 100001")]
    [InlineData("""{ "Threads": 100000 }""", "Threads: must be from 0 to")]
    [InlineData("""{ "Data": { "BatchSize": 100000 } }""", "Data.BatchSize: must be from 1 to 65536, got 100000")]
    public async Task An_unbounded_size_in_a_settings_file_is_refused_before_anything_loads(string json, string expected)
    {
        using var temp = new TempFolder();
        string path = temp.Combine("settings.json");
        File.WriteAllText(path, json);

        // The encoder folder does not exist: validation must fail first, with the bound.
        var result = await CliHarness.RunAsync("train", "--config", path, "--encoder", temp.Combine("no-encoder"), "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.ConfigurationError, result.Error);
        result.Error.Should().Contain(expected);
        Directory.Exists(temp.Combine("run")).Should().BeFalse();
    }
}
