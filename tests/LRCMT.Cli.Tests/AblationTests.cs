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
}
