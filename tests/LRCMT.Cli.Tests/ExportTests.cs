using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Onnx;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

// export and predict --engine onnx on trained tiny runs: the ONNX Runtime CSV must be the TorchSharp CSV within 1e-4.
public class ExportTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    [Fact]
    public async Task Export_writes_the_model_its_manifest_and_tokenizer_and_onnx_predictions_match_torch()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string model = temp.Combine("deploy", "sentiment.onnx");

        var export = await CliHarness.RunAsync("export", run, "--output", model);

        export.ExitCode.Should().Be(ExitCodes.Success, export.Error);
        File.Exists(model).Should().BeTrue();
        File.Exists(temp.Combine("deploy", "sentiment.tokenizer", "vocab.txt")).Should().BeTrue();
        var manifest = OnnxModelManifest.Load(temp.Combine("deploy", "sentiment.json"));
        manifest.ModelFile.Should().Be("sentiment.onnx");
        manifest.Inputs.Select(i => i.Name).Should().Equal("input_ids", "attention_mask", "token_type_ids", "acoustic", "acoustic_mask", "visual", "visual_mask");
        manifest.Tokenizer!.MaxTokens.Should().Be(16, "the tiny settings' MaxTextTokens");
        manifest.Labels!.Head.Should().Be("regression");

        await AssertSamePredictions(run, temp, "--onnx", model);
    }

    [Fact]
    public async Task A_fully_fine_tuned_classification_run_exports_and_predicts_the_same_classes()
    {
        using var temp = new TempFolder();
        string settings = temp.Combine("classes.json");
        File.WriteAllText(settings, TrainAndEvalTests.TinySettings.Replace("\"Training\": { \"Epochs\": 2 }",
            "\"Training\": { \"Epochs\": 1 }, \"Model\": { \"Head\": { \"Kind\": \"Classification\", \"Classes\": 7 } }", StringComparison.Ordinal));
        string run = temp.Combine("run");
        var train = await CliHarness.RunAsync("train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--variant", "FullFineTuning", "--output", run);
        train.ExitCode.Should().Be(ExitCodes.Success, train.Error);

        var export = await CliHarness.RunAsync("export", run);

        export.ExitCode.Should().Be(ExitCodes.Success, export.Error);
        OnnxModelManifest.Load(System.IO.Path.Combine(run, "model.json")).Labels.Should().Be(new OnnxLabelInfo("classification", "Mosi", 7));
        await AssertSamePredictions(run, temp);
    }

    [Fact]
    public async Task Predict_with_the_onnx_engine_before_export_names_the_command_to_run()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();

        var result = await CliHarness.RunAsync("predict", run, "--engine", "onnx", "--onnx", temp.Combine("missing.onnx"));

        result.ExitCode.Should().Be(ExitCodes.RunError);
        result.Error.Should().Contain("lrcmt export");
    }

    private static async Task AssertSamePredictions(string run, TempFolder temp, params string[] onnxOptions)
    {
        string torchCsv = temp.Combine("torch.csv"), onnxCsv = temp.Combine("onnx.csv");
        var torch = await CliHarness.RunAsync("predict", run, "--output", torchCsv, "--batch-size", "5");
        var onnx = await CliHarness.RunAsync(["predict", run, "--output", onnxCsv, "--batch-size", "5", "--engine", "onnx", .. onnxOptions]);
        torch.ExitCode.Should().Be(ExitCodes.Success, torch.Error);
        onnx.ExitCode.Should().Be(ExitCodes.Success, onnx.Error);

        var expected = File.ReadAllLines(torchCsv);
        var actual = File.ReadAllLines(onnxCsv);
        actual.Should().HaveSameCount(expected);
        actual[0].Should().Be(expected[0]);
        foreach (var (e, a) in expected.Skip(1).Zip(actual.Skip(1)))
        {
            string[] ef = e.Split(','), af = a.Split(',');
            af[0].Should().Be(ef[0]);
            af[2].Should().Be(ef[2]);
            double.Parse(af[1], CultureInfo.InvariantCulture).Should().BeApproximately(double.Parse(ef[1], CultureInfo.InvariantCulture), 1e-4, e);
        }
    }
}
