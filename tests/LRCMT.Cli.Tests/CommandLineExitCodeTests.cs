using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

// Every case here fails before any model is loaded, so the whole class runs in well under a second.
public class CommandLineExitCodeTests
{
    [Fact]
    public async Task An_unknown_option_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync("train", "--no-such-flag");

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain("--no-such-flag");
    }

    [Fact]
    public async Task A_non_numeric_epoch_count_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync("--epochs", "many");

        result.ExitCode.Should().Be(ExitCodes.UsageError);
    }

    [Fact]
    public async Task Eval_of_a_folder_that_does_not_exist_is_a_run_error()
    {
        var result = await CliHarness.RunAsync("eval", "no-such-run");

        result.ExitCode.Should().Be(ExitCodes.RunError);
        result.Error.Should().Contain("no-such-run");
    }

    [Fact]
    public async Task A_missing_data_file_is_a_data_error_naming_the_file()
    {
        using var temp = new TempFolder();
        string missing = temp.Combine("absent.pkl");

        var result = await CliHarness.RunAsync("train", "--data", missing, "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.DataError);
        result.Error.Should().Contain(missing);
        Directory.Exists(temp.Combine("run")).Should().BeFalse("nothing is written when the input is wrong");
    }

    [Fact]
    public async Task A_data_file_that_is_not_a_pickle_is_a_data_error()
    {
        using var temp = new TempFolder();
        string notPickle = temp.Combine("features.pkl");
        File.WriteAllText(notPickle, "{\"train\": []}");

        var result = await CliHarness.RunAsync("train", "--data", notPickle, "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.DataError);
        result.Error.Should().Contain("not a pickle");
    }

    [Fact]
    public async Task An_encoder_folder_without_weights_is_an_encoder_error_listing_what_is_missing()
    {
        using var temp = new TempFolder();
        string encoder = temp.Combine("bert");
        Directory.CreateDirectory(encoder);
        File.Copy(System.IO.Path.Combine(Fixtures.TinyBertFolder, "config.json"), System.IO.Path.Combine(encoder, "config.json"));
        File.Copy(System.IO.Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"), System.IO.Path.Combine(encoder, "vocab.txt"));

        var result = await CliHarness.RunAsync("train", "--encoder", encoder, "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.EncoderError);
        result.Error.Should().Contain("model.safetensors").And.NotContain("config.json");
    }

    [Fact]
    public async Task An_existing_output_folder_is_refused_without_force_and_left_untouched()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("run");
        Directory.CreateDirectory(output);
        File.WriteAllText(System.IO.Path.Combine(output, "metrics.json"), "previous results");

        var result = await CliHarness.RunAsync("train", "--output", output);

        result.ExitCode.Should().Be(ExitCodes.OutputExists);
        result.Error.Should().Contain("--force");
        File.ReadAllText(System.IO.Path.Combine(output, "metrics.json")).Should().Be("previous results");
        Directory.GetDirectories(temp.Path).Should().ContainSingle("no staging folder is left behind");
    }

    [Fact]
    public async Task Invalid_settings_are_a_configuration_error_listing_every_problem()
    {
        using var temp = new TempFolder();
        string settings = temp.Combine("settings.json");
        File.WriteAllText(settings, """{ "Training": { "Epochs": 0 }, "Data": { "BatchSize": 0 }, "Device": "tpu" }""");

        var result = await CliHarness.RunAsync("inspect", "--config", settings);

        result.ExitCode.Should().Be(ExitCodes.ConfigurationError);
        result.Error.Should().Contain("Epochs").And.Contain("Data.BatchSize").And.Contain("Device");
    }

    [Fact]
    public async Task Eval_of_a_folder_that_is_not_a_run_is_a_run_error()
    {
        using var temp = new TempFolder();

        var result = await CliHarness.RunAsync("eval", temp.Path, "--data", Fixtures.MmsaPickle);

        result.ExitCode.Should().Be(ExitCodes.RunError);
        result.Error.Should().Contain("config.json").And.Contain("trainable.safetensors");
    }
}
