using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Models;
using Xunit;

namespace LRCMT.Tests.Cli;

public class AblationTests
{
    [Theory]
    [InlineData(ModelVariant.TextOnly, InteractionMode.TextOnly, EncoderTuning.LoRA)]
    [InlineData(ModelVariant.NoVisualAcousticStage, InteractionMode.TextToEachModality, EncoderTuning.LoRA)]
    [InlineData(ModelVariant.FullFineTuning, InteractionMode.AcousticVisualFirst, EncoderTuning.Full)]
    public void A_variant_changes_only_its_interaction_and_tuning_so_data_and_seeds_stay_shared(
        ModelVariant variant, InteractionMode mode, EncoderTuning tuning)
    {
        var settings = new RunSettings();
        settings.ApplySeed(5);
        settings.Data.Controlled.TrainCount = 77;

        var changed = AblationRun.ForVariant(settings, variant);

        changed.Model.Interaction.Mode.Should().Be(mode);
        changed.Model.TextEncoder.Tuning.Should().Be(tuning);
        changed.Data.Should().BeEquivalentTo(settings.Data);
        changed.Training.Seed.Should().Be(5);
        changed.Training.Epochs.Should().Be(settings.Training.Epochs);
        settings.Model.Interaction.Mode.Should().Be(InteractionMode.AcousticVisualFirst, "the caller's settings are not touched");
    }

    [Fact]
    public void Ablation_json_has_one_row_per_variant_with_name_trainable_share_and_metrics()
    {
        using var temp = new TempFolder();
        var rows = new[]
        {
            new AblationRow("Lrcmt", 0.0056, new Dictionary<string, double> { ["Has0_acc_2"] = 0.81, ["MAE"] = 0.9 }),
            new AblationRow("TextOnly", 0.0040, new Dictionary<string, double> { ["Has0_acc_2"] = 0.70, ["MAE"] = 1.1 }),
        };
        string path = temp.Combine("ablation.json");

        AblationReport.SaveJson(path, rows);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        json.RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).Should().Equal("Lrcmt", "TextOnly");
        json.RootElement[0].GetProperty("trainable_share").GetDouble().Should().Be(0.0056);
        json.RootElement[1].GetProperty("metrics").GetProperty("Has0_acc_2").GetDouble().Should().Be(0.70);
    }

    [Fact]
    public void Ablation_markdown_shows_accuracies_in_percent_and_errors_raw()
    {
        using var temp = new TempFolder();
        var rows = new[] { new AblationRow("Lrcmt", 0.0056, new Dictionary<string, double> { ["Has0_acc_2"] = 0.8125, ["MAE"] = 0.91234 }) };
        string path = temp.Combine("ablation.md");

        AblationReport.SaveMarkdown(path, rows, ["Has0_acc_2", "MAE"], "caption");

        File.ReadAllText(path).Should().Contain("| Lrcmt | 0.56% | 81.25 | 0.9123 |");
    }
}
