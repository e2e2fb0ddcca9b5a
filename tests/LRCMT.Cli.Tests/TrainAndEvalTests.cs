using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Runs;
using LRCMT.Evaluation;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using Spectre.Console;
using Xunit;

namespace LRCMT.Tests.Cli;

// End to end through the CLI with the tiny-bert fixture as encoder and a few dozen generated samples,
// so each case takes seconds rather than the minutes of the MiniLM default run.
public class TrainAndEvalTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    internal const string TinySettings = """
        { "Data": { "MaxTextTokens": 16, "BatchSize": 8,
                    "Controlled": { "TrainCount": 32, "ValidCount": 16, "TestCount": 16, "AcousticLength": 8, "VisualLength": 12 } },
          "Training": { "Epochs": 2 } }
        """;

    [Fact]
    public async Task Train_writes_a_complete_run_folder_with_mmsa_metrics_and_a_peft_adapter()
    {
        string run = await tiny.RunAsync();

        foreach (var file in new[] { "metrics.json", "config.json", "model/lrcmt_config.json", "model/model.safetensors", "training-curves.png",
                                     "model/adapter/adapter_config.json", "model/adapter/adapter_model.safetensors", "checkpoint/last.safetensors" })
            File.Exists(System.IO.Path.Combine(run, file)).Should().BeTrue(file);

        using var metrics = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(run, "metrics.json")));
        metrics.RootElement.GetProperty("status").GetString().Should().Be("completed");
        metrics.RootElement.GetProperty("test").EnumerateObject().Select(p => p.Name)
            .Should().BeEquivalentTo(MsaMetrics.NamesFor(MsaDataset.Mosi));
        metrics.RootElement.GetProperty("history").GetArrayLength().Should().Be(2);
        PeftAdapterFile.ReadConfig(System.IO.Path.Combine(run, "model", "adapter")).TargetModules.Should().BeEquivalentTo("query", "value");

        // test-predictions.csv holds exactly what the test metrics were computed from.
        var predictions = PredictionsFile.Read(System.IO.Path.Combine(run, "test-predictions.csv"));
        var recorded = metrics.RootElement.GetProperty("test").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        predictions.Metrics(MsaDataset.Mosi).Values.Should().Equal(recorded);
    }

    [Fact]
    public async Task Eval_of_a_saved_run_on_its_own_test_split_reproduces_the_recorded_metrics()
    {
        string run = await tiny.RunAsync();
        using var recorded = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(run, "metrics.json")));

        var saved = SavedRun.Open(run);
        var metrics = EvaluationRun.Execute(saved, "test", new CliContext(SilentConsole(), TextWriter.Null, default));

        foreach (var property in recorded.RootElement.GetProperty("test").EnumerateObject())
            metrics[property.Name].Should().BeApproximately(property.Value.GetDouble(), 1e-6, property.Name);
    }

    [Fact]
    public async Task Eval_on_an_mmsa_file_prints_the_metrics_table()
    {
        string run = await tiny.RunAsync();

        var result = await CliHarness.RunAsync("eval", run, "--data", Fixtures.MmsaPickle, "--split", "valid");

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        result.Output.Should().Contain("Has0_acc_2").And.Contain("Mult_acc_7");
    }

    [Fact]
    public async Task Ctrl_c_stops_after_the_step_keeps_the_checkpoint_and_exits_130()
    {
        using var temp = new TempFolder();
        using var interrupt = new CancellationTokenSource();
        interrupt.Cancel();
        string run = temp.Combine("run");

        var result = await CliHarness.RunAsync(interrupt.Token,
            "train", "-c", WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder, "--output", run);

        result.ExitCode.Should().Be(ExitCodes.Interrupted, result.Error);
        File.Exists(System.IO.Path.Combine(run, "checkpoint", "last.safetensors")).Should().BeTrue();
        using var metrics = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(run, "metrics.json")));
        metrics.RootElement.GetProperty("status").GetString().Should().Be("interrupted");
        metrics.RootElement.GetProperty("test").ValueKind.Should().Be(JsonValueKind.Null);
    }

    internal static string WriteSettings(TempFolder temp)
    {
        string path = temp.Combine("settings.json");
        File.WriteAllText(path, TinySettings);
        return path;
    }

    private static IAnsiConsole SilentConsole() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Ansi = AnsiSupport.No });
}

/// <summary>One tiny training run shared by the tests that only read its folder.</summary>
public sealed class TinyRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();
    private Task<string>? _run;

    internal Task<string> RunAsync() => _run ??= TrainAsync();

    private async Task<string> TrainAsync()
    {
        string run = _temp.Combine("run");
        var result = await CliHarness.RunAsync(CancellationToken.None,
            "train", "-c", TrainAndEvalTests.WriteSettings(_temp), "--encoder", Fixtures.TinyBertFolder, "--output", run);
        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        return run;
    }

    public void Dispose() => _temp.Dispose();
}
