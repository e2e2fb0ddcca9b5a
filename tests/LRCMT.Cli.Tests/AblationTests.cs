using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Commands;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Models;
using LRCMT.Training;
using LRCMT.Tests.TestSupport;
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

    [Theory]
    [InlineData(ModelVariant.MulT, ModelArchitecture.MulT)]
    [InlineData(ModelVariant.Tfn, ModelArchitecture.Tfn)]
    [InlineData(ModelVariant.Lmf, ModelArchitecture.Lmf)]
    [InlineData(ModelVariant.MagBert, ModelArchitecture.MagBert)]
    [InlineData(ModelVariant.TextOnly, ModelArchitecture.Lrcmt)]
    public void A_baseline_variant_sets_its_architecture_and_keeps_the_configured_encoder_tuning(ModelVariant variant, ModelArchitecture architecture)
    {
        var settings = new RunSettings();
        settings.Model = settings.Model with { Architecture = ModelArchitecture.Tfn };

        var changed = AblationRun.ForVariant(settings, variant);

        changed.Model.Architecture.Should().Be(architecture);
        changed.Model.TextEncoder.Tuning.Should().Be(EncoderTuning.LoRA, "the baselines sit behind the same LoRA encoder as LRCMT");
        settings.Model.Architecture.Should().Be(ModelArchitecture.Tfn, "the caller's settings are not touched");
    }

    // One epoch of every baseline on the tiny-bert fixture, each saved, reloaded and scored with missing data.
    [Fact]
    public async Task One_epoch_ablation_trains_saves_and_reloads_every_baseline_and_writes_the_robustness_table()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("ablation");
        string[] variants = ["Lrcmt", "MulT", "Tfn", "Lmf", "MagBert"];

        var result = await CliHarness.RunAsync(["ablate", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--variant", .. variants, "--missing-rates", "0,0.5", "--protocol", "mmsa", "--seed", "1", "--output", output]);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        var results = File.ReadAllLines(Path.Combine(output, "results.csv"));
        var robustness = File.ReadAllLines(Path.Combine(output, "robustness.csv"));
        robustness[0].Should().StartWith("Model,Seed,MissingRate,Mode,MaskSeed,Has0_acc_2");
        foreach (var variant in variants)
        {
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, variant, "seed-1", "model", "lrcmt_config.json")));
            config.RootElement.ToString().Should().Contain(variant == "Lrcmt" ? "Lrcmt" : variant, "the saved description names the architecture");
            File.Exists(Path.Combine(output, $"robustness-{variant}.png")).Should().BeTrue(variant);
            // Rate 0 reloads the saved model and must score exactly what the training run scored on its test split.
            double trained = Value(results, variant, "1", "MAE");
            double reloaded = Value(robustness, variant, "1", "MAE", rate: "0");
            reloaded.Should().BeApproximately(trained, 1e-6, $"{variant} saved and reloaded predicts as trained");
            Value(robustness, variant, "1", "MAE", rate: "0.5").Should().NotBe(reloaded, $"{variant} sees the missing frames");
        }
        File.ReadAllText(Path.Combine(output, "robustness.md")).Should().Contain("| MagBert | 0.5 | 1 |");
        // MMSA's protocol: selection on the validation loss with MMSA's patience, and MMSA's results table beside ours.
        var tfn = RunSettingsFile.Load(Path.Combine(output, "Tfn", "seed-1", "config.json"));
        tfn.Training.EarlyStoppingMetric.Should().Be("Loss");
        tfn.Training.Patience.Should().Be(8);
        tfn.Data.Controlled.WeakestEventAmplitude.Should().NotBeNull("ablate runs the unsaturated benchmark unless told otherwise");
        new RunSettings().Data.Controlled.WeakestEventAmplitude.Should().BeNull("train keeps the easy default of the README");
        var mmsa = File.ReadAllLines(Path.Combine(output, "results-mmsa.csv"));
        mmsa[0].Should().StartWith("Model,Has0_acc_2,");
        double accuracy = Value(results, "Lmf", "1", "Has0_acc_2");
        mmsa.Single(l => l.StartsWith("Lmf,", StringComparison.Ordinal)).Should()
            .StartWith($"Lmf,\"({Math.Round(accuracy * 100, 2).ToString("0.0#", CultureInfo.InvariantCulture)}, 0.0)\"", "one seed: MMSA's std (ddof 0) is 0");
    }

    [Fact]
    public async Task Eval_with_a_missing_rate_scores_the_run_with_frames_masked_and_names_a_bad_rate()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        var trained = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--variant", "Tfn", "--output", run);
        trained.ExitCode.Should().Be(ExitCodes.Success, trained.Error);

        var plain = await CliHarness.RunAsync("eval", run);
        var masked = await CliHarness.RunAsync("eval", run, "--missing-rate", "0.6", "--missing-whole-modalities");
        var again = await CliHarness.RunAsync("eval", run, "--missing-rate", "0.6", "--missing-whole-modalities");
        var bad = await CliHarness.RunAsync("eval", run, "--missing-rate", "1.5");

        masked.ExitCode.Should().Be(ExitCodes.Success, masked.Error);
        masked.Output.Should().Contain("each acoustic and visual stream dropped with probability 0.6 (mask seed 1111)");
        masked.Output.Should().NotBe(plain.Output);
        Metrics(masked.Output).Should().Equal(Metrics(again.Output), "the masks are seeded");
        bad.ExitCode.Should().Be(ExitCodes.UsageError);
        bad.Error.Should().Contain("--missing-rate");
    }

    private static List<string> Metrics(string output) =>
        output.Split('\n').Where(l => l.Contains("MAE") || l.Contains("Has0_acc_2")).ToList();

    // The unsaturated benchmark trains longer by default; the settings file and --epochs still decide, and
    // --difficulty settings keeps the library's own default.
    [Fact]
    public async Task The_unsaturated_benchmark_trains_its_own_budget_unless_the_settings_file_or_flags_name_the_epochs()
    {
        using var temp = new TempFolder();
        string noEpochs = temp.Combine("no-epochs.json");
        File.WriteAllText(noEpochs, """
            { "Data": { "MaxTextTokens": 8, "BatchSize": 16,
                        "Controlled": { "TrainCount": 16, "ValidCount": 8, "TestCount": 8, "AcousticLength": 4, "VisualLength": 4 } } }
            """);
        string twoEpochs = TrainAndEvalTests.WriteSettings(temp);

        async Task<TrainerOptions> Trained(string name, params string[] extra)
        {
            string output = temp.Combine(name);
            var result = await CliHarness.RunAsync(["ablate", "--encoder", Fixtures.TinyBertFolder, "--variant", "TextOnly", "--output", output, .. extra]);
            result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
            return RunSettingsFile.Load(Path.Combine(output, "TextOnly", "seed-1", "config.json")).Training;
        }

        var unsaturated = await Trained("unsaturated", "-c", noEpochs);
        var asConfigured = await Trained("settings", "-c", noEpochs, "--difficulty", "settings");
        var fromFile = await Trained("file", "-c", twoEpochs);
        var fromFlag = await Trained("flag", "-c", noEpochs, "--epochs", "3");

        unsaturated.Epochs.Should().Be(AblateCommand.UnsaturatedEpochs).And.NotBe(new TrainerOptions().Epochs);
        asConfigured.Epochs.Should().Be(new TrainerOptions().Epochs, "--difficulty settings keeps the library's default");
        fromFile.Epochs.Should().Be(2, "the settings file names its epochs");
        fromFlag.Epochs.Should().Be(3);
        unsaturated.Should().BeEquivalentTo(asConfigured with { Epochs = unsaturated.Epochs }, "only the budget differs");
    }

    private static double Value(string[] lines, string model, string seed, string metric, string? rate = null)
    {
        var header = lines[0].Split(',');
        var row = lines.Single(l => l.StartsWith(rate is null ? $"{model},{seed}," : $"{model},{seed},{rate},", StringComparison.Ordinal)).Split(',');
        return double.Parse(row[Array.IndexOf(header, metric)], CultureInfo.InvariantCulture);
    }
}
