using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Settings;
using LRCMT.Models;
using Xunit;

namespace LRCMT.Tests.Cli;

public class RunSettingsFileTests
{
    [Fact]
    public void Values_in_the_file_replace_defaults_and_lists_replace_rather_than_append()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("appsettings.json");
        File.WriteAllText(path, """
            { "LrcmtRun": {
                "Training": { "Epochs": 7, "Seed": 11 },
                "Model": { "Interaction": { "Mode": "TextOnly" }, "LoRA": { "TargetModules": [ "key" ] } },
                "Data": { "Controlled": { "TrainCount": 64, "IntensityScales": [ 0.5, 2.0 ] } } } }
            """);

        var settings = RunSettingsFile.Load(path);

        settings.Training.Epochs.Should().Be(7);
        settings.Training.Seed.Should().Be(11);
        settings.Model.Interaction.Mode.Should().Be(InteractionMode.TextOnly);
        settings.Model.LoRA.TargetModules.Should().Equal("key");
        settings.Data.Controlled.TrainCount.Should().Be(64);
        settings.Data.Controlled.IntensityScales.Should().Equal(0.5f, 2.0f);
        settings.Training.LearningRate.Should().Be(new RunSettings().Training.LearningRate, "keys the file omits keep their defaults");
    }

    [Theory]
    [InlineData("{ \"Training\": { \"Epochs\": ", "not valid JSON at line 1, column")]
    [InlineData("{ \"Training\": { \"Epoch\": 3 } }", "Epoch")]
    [InlineData("{ \"Training\": { \"Epochs\": \"three\" } }", "Training.Epochs: must be a whole number, got 'three'")]
    public void A_malformed_or_misspelt_file_is_a_configuration_error(string json, string expectedInMessage)
    {
        using var temp = new TempFolder();
        string path = temp.Combine("bad.json");
        File.WriteAllText(path, json);

        var act = () => RunSettingsFile.Load(path);

        var error = act.Should().Throw<CliException>().Which;
        error.ExitCode.Should().Be(ExitCodes.ConfigurationError);
        error.Message.Should().Contain(path).And.Contain(expectedInMessage);
    }

    [Fact]
    public void The_resolved_configuration_reads_back_equal()
    {
        using var temp = new TempFolder();
        var settings = new RunSettings();
        settings.ApplyVariant(ModelVariant.NoVisualAcousticStage);
        settings.Data.Controlled.VisualLength = 33;
        settings.Training = settings.Training with { AdapterLearningRate = 3e-4 };
        string path = temp.Combine("config.json");

        RunSettingsFile.Save(settings, path);
        var back = RunSettingsFile.ReadResolved(path);

        back.Should().BeEquivalentTo(settings);
        File.ReadAllText(path).Should().Contain("\"TextToEachModality\"", "enums are written by name so the file is readable");
    }
}
