using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Settings;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Cli;

// train's --protocol (issue 25 item 3): MMSA's selection by default for .pkl data, the settings' on the controlled
// benchmark, and resumption that keeps the run's own. The MMSA fixture has 6/3/3 samples; each run takes seconds.
public class ProtocolTests
{
    [Fact]
    public async Task Train_on_a_pkl_file_selects_on_the_validation_loss_by_default_and_keeps_the_lowest_loss_epoch()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");

        var result = await Train(run, "--epochs", "3");

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        result.Output.Should().Contain("Selection: best validation Loss, patience 8 (MMSA's protocol)");
        var config = RunSettingsFile.Load(Path.Combine(run, "config.json"));
        config.Training.EarlyStoppingMetric.Should().Be(TrainerOptions.LossMetric);
        config.Training.Patience.Should().Be(TrainerOptions.MmsaPatience);
        config.Training.Seed.Should().Be(TrainerOptions.MmsaSeeds[0], "a single run under MMSA's protocol takes MMSA's first seed");

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        metrics.RootElement.GetProperty("selection_metric").GetString().Should().Be("Loss");
        var losses = metrics.RootElement.GetProperty("history").EnumerateArray()
            .Select(e => (Epoch: e.GetProperty("epoch").GetInt32(), Loss: e.GetProperty("valid_loss").GetDouble())).ToList();
        losses.Should().HaveCount(3);
        // The lowest validation loss; on a tie the earliest epoch.
        int lowest = losses.OrderBy(e => e.Loss).ThenBy(e => e.Epoch).First().Epoch;
        int kept = metrics.RootElement.GetProperty("selected_epoch").GetInt32();
        kept.Should().Be(lowest);
        // The validation numbers are the kept epoch's: a score head's L1 loss over one validation batch is its MAE.
        metrics.RootElement.GetProperty("valid").GetProperty("MAE").GetDouble().Should().BeApproximately(losses.Single(e => e.Epoch == kept).Loss, 1e-6);
    }

    [Fact]
    public async Task A_pkl_run_trained_under_mmsa_resumes_without_flags_and_refuses_the_other_protocol()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        (await Train(run, "--epochs", "1")).ExitCode.Should().Be(ExitCodes.Success);
        string before = File.ReadAllText(Path.Combine(run, "config.json"));

        var other = await CliHarness.RunAsync("train", "--resume", run, "--protocol", "settings", "--epochs", "2");

        other.ExitCode.Should().Be(ExitCodes.UsageError);
        other.Error.Should().Contain("Training.EarlyStoppingMetric: the run has \"Loss\", asked \"Has0_acc_2\"")
            .And.Contain("Training.Patience: the run has 8, asked 0");
        File.ReadAllText(Path.Combine(run, "config.json")).Should().Be(before);

        var resumed = await CliHarness.RunAsync("train", "--resume", run, "--epochs", "2");

        resumed.ExitCode.Should().Be(ExitCodes.Success, resumed.Error);
        resumed.Output.Should().Contain("(MMSA's protocol)").And.NotContain("epoch 1:", "the run continues from its checkpoint");
        var config = RunSettingsFile.Load(Path.Combine(run, "config.json"));
        config.Training.EarlyStoppingMetric.Should().Be(TrainerOptions.LossMetric);
        config.Training.Seed.Should().Be(TrainerOptions.MmsaSeeds[0]);
    }

    [Fact]
    public async Task Protocol_settings_keeps_the_configured_selection_and_seed_on_a_pkl_file_and_its_run_resumes_as_such()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        var configured = new TrainerOptions();

        var result = await Train(run, "--epochs", "1", "--protocol", "settings");

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        result.Output.Should().Contain($"Selection: best validation {configured.EarlyStoppingMetric}, no early stopping").And.NotContain("MMSA");
        var config = RunSettingsFile.Load(Path.Combine(run, "config.json"));
        config.Training.EarlyStoppingMetric.Should().Be(configured.EarlyStoppingMetric);
        config.Training.Patience.Should().Be(configured.Patience);
        config.Training.Seed.Should().Be(configured.Seed);

        var other = await CliHarness.RunAsync("train", "--resume", run, "--protocol", "mmsa", "--epochs", "2");
        other.ExitCode.Should().Be(ExitCodes.UsageError);
        other.Error.Should().Contain($"Training.EarlyStoppingMetric: the run has \"{configured.EarlyStoppingMetric}\", asked \"Loss\"");

        // Without flags the .pkl data's default (mmsa) is not applied again to a run trained otherwise.
        var resumed = await CliHarness.RunAsync("train", "--resume", run, "--epochs", "2");
        resumed.ExitCode.Should().Be(ExitCodes.Success, resumed.Error);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))))
            metrics.RootElement.GetProperty("selection_metric").GetString().Should().Be(configured.EarlyStoppingMetric);

        // Asking for the protocol it was trained under is no difference.
        var same = await CliHarness.RunAsync("train", "--resume", run, "--protocol", "settings", "--epochs", "3");
        same.ExitCode.Should().Be(ExitCodes.Success, same.Error);
    }

    [Fact]
    public async Task A_seed_sweep_on_a_pkl_file_selects_on_the_loss_with_the_seeds_given()
    {
        using var temp = new TempFolder();
        string sweep = temp.Combine("sweep");

        var result = await Train(sweep, "--epochs", "1", "--seeds", "2");

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        foreach (int seed in new[] { 1, 2 })
        {
            var config = RunSettingsFile.Load(Path.Combine(sweep, $"seed-{seed}", "config.json"));
            config.Training.EarlyStoppingMetric.Should().Be(TrainerOptions.LossMetric);
            config.Training.Patience.Should().Be(TrainerOptions.MmsaPatience);
            config.Training.Seed.Should().Be(seed, "--seeds chooses the seeds, not MMSA's");
        }
        RunSettingsFile.Load(Path.Combine(sweep, "config.json")).Training.EarlyStoppingMetric.Should().Be(TrainerOptions.LossMetric);
    }

    [Fact]
    public async Task On_the_controlled_benchmark_train_keeps_the_configured_selection_by_default()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        var configured = new TrainerOptions();

        var result = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--threads", "1", "--output", run);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        result.Output.Should().Contain($"Selection: best validation {configured.EarlyStoppingMetric}, no early stopping");
        var config = RunSettingsFile.Load(Path.Combine(run, "config.json"));
        config.Training.EarlyStoppingMetric.Should().Be(configured.EarlyStoppingMetric);
        config.Training.Patience.Should().Be(configured.Patience);
        config.Training.Seed.Should().Be(configured.Seed);
    }

    private static Task<CliHarness.Result> Train(string output, params string[] flags) =>
        CliHarness.RunAsync(["train", "--data", Fixtures.MmsaPickle, "--encoder", Fixtures.TinyBertFolder, "--max-tokens", "16",
            "--threads", "1", "--output", output, .. flags]);
}
