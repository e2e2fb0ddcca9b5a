using FluentAssertions;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Experiments.Reports;
using LRCMT.Cli.Reporting;
using LRCMT.Evaluation;
using Xunit;

namespace LRCMT.Tests.Cli;

// When stdout is a file or a pipe, lines must stay whole (no hard wrap at 80 columns) and headers uncut.
public class LogOutputTests
{
    [Fact]
    public void A_wide_table_written_to_a_redirected_writer_keeps_every_header_whole()
    {
        var output = new StringWriter();
        var console = ConsoleFactory.Create(output, isTerminal: false);
        var runs = new[] { 0.5, 0.6 }.Select((v, i) => new LRCMT.Experiments.SeedRun(i + 1, AblationRun.Columns.ToDictionary(c => c, _ => v))).ToList();
        var rows = new[] { new VariantResult("NoVisualAcousticStage", 0.0056, "NoVisualAcousticStage", runs), new VariantResult("FullFineTuning", 1, "FullFineTuning", runs) };

        SweepConsole.Aggregates(console, "Ablation", rows, AblationRun.Columns);

        string header = output.ToString().Split('\n').Single(l => l.Contains("Variant"));
        foreach (var column in AblationRun.Columns) header.Should().Contain(column);
        output.ToString().Should().NotContain("…").And.NotContain("\u001b[");
    }

    [Fact]
    public async Task A_training_run_logs_each_epoch_on_one_line()
    {
        using var temp = new TempFolder();

        var result = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder",
            LRCMT.Tests.TestSupport.Fixtures.TinyBertFolder, "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(0, result.Error);
        var lines = result.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var epochs = lines.Where(l => l.TrimStart().StartsWith("epoch ", StringComparison.Ordinal)).ToList();
        epochs.Should().HaveCount(2);
        foreach (var line in epochs)
            line.Should().Contain("train loss").And.Contain(MsaMetricNames.Has0Acc2).And.Contain(MsaMetricNames.Corr);
        lines.Should().Contain(l => l.StartsWith("Data: controlled benchmark") && l.Contains("visual"), "the data line is not wrapped");
        lines.Count(l => l.Contains('%')).Should().BeLessThan(20, "progress is reported at a log-friendly rate");
    }
}
