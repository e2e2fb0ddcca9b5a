using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

// train --resume, predict and eval's choice of data, end to end with the tiny-bert fixture (seconds each).
public class ResumePredictTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    [Fact]
    public async Task Resume_continues_from_the_checkpoint_to_the_new_epoch_budget_in_the_same_folder()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");
        var first = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--output", run);
        first.ExitCode.Should().Be(ExitCodes.Success, first.Error);

        var resumed = await CliHarness.RunAsync("train", "--resume", run, "--epochs", "3");

        resumed.ExitCode.Should().Be(ExitCodes.Success, resumed.Error);
        resumed.Output.Should().NotContain("epoch 1:", "epoch 1 is not trained again").And.Contain("epoch 2:").And.Contain("epoch 3:");
        using var metrics = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(run, "metrics.json")));
        metrics.RootElement.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32())
            .Should().Equal(1, 2, 3);
        Directory.GetDirectories(temp.Path).Should().ContainSingle("the resumed run replaced its folder");

        // History is not rewritten: config.json keeps the epochs the run started with and records the resumption.
        string configuration = System.IO.Path.Combine(run, "config.json");
        LRCMT.Cli.Settings.RunSettingsFile.Load(configuration).Training.Epochs.Should().Be(1, "-c config.json repeats the run as started");
        using var recorded = JsonDocument.Parse(File.ReadAllText(configuration));
        var resumption = recorded.RootElement.GetProperty("Resumptions").EnumerateArray().Should().ContainSingle().Subject;
        resumption.GetProperty("FromEpoch").GetInt32().Should().Be(1);
        resumption.GetProperty("Epochs").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task Resume_with_fewer_epochs_than_the_run_has_is_refused_and_leaves_config_json_as_it_was()
    {
        string run = await tiny.RunAsync();
        string configuration = System.IO.Path.Combine(run, "config.json");
        string before = File.ReadAllText(configuration);

        var result = await CliHarness.RunAsync("train", "--resume", run, "--epochs", "1");

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain("Training.Epochs: the run has 2, asked 1").And.Contain("more epochs");
        File.ReadAllText(configuration).Should().Be(before);
    }

    [Fact]
    public async Task Resume_with_a_settings_file_that_differs_lists_every_difference()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string changed = temp.Combine("changed.json");
        File.WriteAllText(changed, """{ "Data": { "BatchSize": 4 }, "Training": { "Seed": 7, "Epochs": 5 } }""");

        var result = await CliHarness.RunAsync("train", "--resume", run, "-c", changed);

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain("Data.BatchSize: the run has 8, asked 4").And.Contain("Training.Seed: the run has")
            .And.NotContain("Training.Epochs", "more epochs is what a resumption may ask");
    }

    [Fact]
    public async Task A_runs_config_json_is_itself_a_valid_settings_file()
    {
        string run = await tiny.RunAsync();

        var settings = LRCMT.Cli.Settings.RunSettingsFile.Load(System.IO.Path.Combine(run, "config.json"));

        settings.Data.Controlled.TrainCount.Should().Be(32, "the tiny settings' value comes back");
    }

    [Fact]
    public async Task Resume_refuses_flags_that_would_change_the_runs_settings()
    {
        string run = await tiny.RunAsync();

        var result = await CliHarness.RunAsync("train", "--resume", run, "--lora-rank", "4");

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain("Model.LoRA.Rank: the run has 8, asked 4");
    }

    [Fact]
    public async Task Predict_writes_one_csv_row_per_test_sample_with_id_prediction_and_label()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string csv = temp.Combine("out", "predictions.csv");

        var result = await CliHarness.RunAsync("predict", run, "--output", csv, "--batch-size", "5");

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        var lines = File.ReadAllLines(csv);
        lines[0].Should().Be("id,prediction,label");
        lines.Skip(1).Should().HaveCount(16, "the tiny settings have 16 test samples");
        var ids = lines.Skip(1).Select(l => l.Split(',')[0]).ToList();
        ids.Should().OnlyHaveUniqueItems().And.AllSatisfy(id => id.Should().Contain("test"));
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(',');
            double.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture).Should().BeInRange(-10, 10);
            double.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture).Should().BeInRange(-3, 3);
        }
    }

    [Fact]
    public async Task Eval_of_a_run_trained_on_a_file_that_is_gone_asks_for_data_instead_of_generating_a_benchmark()
    {
        using var temp = new TempFolder();
        string pickle = temp.Combine("features.pkl");
        File.Copy(Fixtures.MmsaPickle, pickle);
        string run = temp.Combine("run");
        var trained = await CliHarness.RunAsync("train", "--data", pickle, "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--max-tokens", "16", "--output", run);
        trained.ExitCode.Should().Be(ExitCodes.Success, trained.Error);
        var again = await CliHarness.RunAsync("eval", run, "--threads", "1", "--batch-size", "4");
        again.ExitCode.Should().Be(ExitCodes.Success, again.Error);
        again.Output.Should().Contain("features.pkl", "without --data eval uses the file the run was trained on");

        File.Delete(pickle);
        var result = await CliHarness.RunAsync("eval", run);

        result.ExitCode.Should().Be(ExitCodes.DataError);
        result.Error.Should().Contain("features.pkl").And.Contain("--data");
        result.Output.Should().NotContain("controlled benchmark");
    }
}
