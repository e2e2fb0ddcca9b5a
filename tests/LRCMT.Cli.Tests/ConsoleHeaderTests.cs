using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Settings;
using LRCMT.Data;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Spectre.Console;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>What the console and the pictures say about a run: threads, kernels, seed, variant, tokens.</summary>
public partial class ConsoleHeaderTests
{
    [Fact]
    public async Task Train_prints_the_threads_the_cpu_kernels_and_the_seed_as_config_json_records_them()
    {
        using var temp = new TempFolder();
        string run = temp.Combine("run");

        var result = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--epochs", "1", "--threads", "1", "--seed", "3", "--variant", "TextOnly", "--output", run);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        var environment = config.RootElement.GetProperty("Environment");
        string kernels = environment.GetProperty("CpuCapabilityInferred").GetString()!;
        kernels.Should().NotBeNullOrEmpty();
        string projections = environment.GetProperty("Projections").GetString()!;
        projections.Should().BeOneOf("libtorch", "LRCMT AVX-512");
        result.Output.Should().Contain($"Threads: 1 (set) · CPU kernels: {kernels}" + (projections == "libtorch" ? " · seed 3" : $" · projections: {projections} · seed 3"))
            .And.Contain("Training TextOnly:");
        environment.GetProperty("ThreadsChoice").GetString().Should().Be("set");
    }

    [Fact]
    public async Task At_80_columns_the_parameter_report_stays_on_one_line()
    {
        using var temp = new TempFolder();
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 80;

        int code = await new CliApp(console, TextWriter.Null).RunAsync(
            ["train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder, "--epochs", "1", "--output", temp.Combine("run")],
            TestContext.Current.CancellationToken);

        code.Should().Be(ExitCodes.Success);
        var lines = output.ToString().Split('\n');
        lines.Where(l => WholeReport().IsMatch(l)).Should().HaveCount(2, "the report is printed before training and with the results, whole each time");
    }

    [Fact]
    public void At_80_columns_the_progress_row_keeps_its_percentage_whole()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 80;
        // Three of four signs right: Has0_acc_2 75%.
        var validation = LRCMT.Evaluation.MsaMetrics.Compute(LRCMT.Evaluation.MsaDataset.Mosi, [1f, 1f, 1f, -1f], [1f, 1f, 1f, 1f]);
        var rates = new Dictionary<LRCMT.Training.ParameterGroup, double>();

        TrainingProgressView.Run(console, "Resuming", totalSteps: 40, progress =>
        {
            progress.Report(new LRCMT.Training.TrainingProgress(LRCMT.Training.TrainingEvent.EpochCompleted, 9, 36, 40, 1.234, rates, validation, 1.5));
            progress.Report(new LRCMT.Training.TrainingProgress(LRCMT.Training.TrainingEvent.StepCompleted, 9, 37, 40, 1.234, rates));
            return null!;
        });

        var rows = AnsiCodes().Replace(output.ToString(), "").Split('\n', '\r').Where(l => l.Contains("epoch 10 · loss 1.234")).ToList();
        rows.Should().NotBeEmpty();
        rows.Should().AllSatisfy(row => row.Should().MatchRegex(@"\d+%", "the percentage stays whole on the row").And.Contain("75.0%"));
        AnsiCodes().Replace(output.ToString(), "").Split('\n', '\r').Should().NotContain(l => l.Trim() == "%", "nothing wraps onto a line of its own");
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[a-zA-Z]")]
    private static partial Regex AnsiCodes();

    [GeneratedRegex(@"^\s*trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: [\d.]+\s*$")]
    private static partial Regex WholeReport();

    [Fact]
    public void Every_variant_is_named_back_from_the_model_description_it_sets()
    {
        foreach (var variant in Enum.GetValues<ModelVariant>())
        {
            var settings = new RunSettings();
            settings.ApplyVariant(variant);

            RunSettings.VariantName(settings.Model).Should().Be(variant.ToString());
        }
    }

    [Fact]
    public void The_training_curves_title_names_the_run_and_its_test_score()
    {
        var curves = new TrainingCurves("Has0_acc_2", "TextOnly, seed 3") { TestMetric = 0.675 };
        curves.Add(new(1, 1.0, 1.1, 0.6));

        string svg = TrainingCurvesPlot.Draw(curves).GetSvgXml(600, 400);

        svg.Should().Contain("TextOnly, seed 3: test Has0_acc_2 67.50%");
    }

    [Fact]
    public void Heatmap_tokens_are_the_words_of_the_sample_as_the_model_saw_them()
    {
        var tokenizer = BertTextTokenizer.FromVocabFile(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"));
        var frames = new float[2, 5];
        var samples = new[]
        {
            new MultimodalSample("a", "The movie was boring", null, frames, new float[3, 20], 0f),
            new MultimodalSample("b", "great film", null, frames, new float[3, 20], 1f),
        };
        using var batch = new MultimodalCollator(tokenizer, maxTextLength: 16).Collate(samples);

        var tokens = ExplanationRun.Tokens(batch, tokenizer, [6, 4]);

        tokens[0].Should().Equal("[CLS]", "the", "movie", "was", "boring", "[SEP]");
        tokens[1].Should().Equal("[CLS]", "great", "film", "[SEP]");
    }
}
