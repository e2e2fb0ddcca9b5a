using TorchSharp;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Cli;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Evaluation;
using LRCMT.Models;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Spectre.Console;
using Xunit;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Cli;

// The run folder's model is the library's LRCMTModel.Save folder; folders of the earlier layout still evaluate.
public class SavedModelRunTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    private const string ClassificationSettings = """
        { "Data": { "MaxTextTokens": 16, "BatchSize": 8,
                    "Controlled": { "TrainCount": 32, "ValidCount": 16, "TestCount": 16, "AcousticLength": 8, "VisualLength": 12,
                                    "AcousticFeatures": 6, "VisualFeatures": 7 } },
          "Model": { "Head": { "Kind": "Classification", "Classes": 2 } },
          "Training": { "Epochs": 2 } }
        """;

    [Fact]
    public async Task A_classification_run_records_the_model_as_built_and_eval_reproduces_its_metrics()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("settings.json"), ClassificationSettings);
        string run = temp.Combine("run");

        var result = await CliHarness.RunAsync("train", "-c", temp.Combine("settings.json"), "--encoder", Fixtures.TinyBertFolder, "--output", run);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        config.RootElement.GetProperty("ModelFolder").GetString().Should().Be(RunFiles.Model, "the model's description is kept once, in the model folder");
        config.RootElement.TryGetProperty("Model", out _).Should().BeFalse();
        var model = LRCMTModel.ReadOptions(Path.Combine(run, RunFiles.Model));
        model.Modalities.AcousticFeatures.Should().Be(6, "the feature sizes come from the data");
        model.Modalities.VisualFeatures.Should().Be(7);
        model.LoRA.TargetModules.Should().Equal("query", "value");
        model.Head.Should().Be(new LRCMT.Configuration.HeadOptions { Kind = HeadKind.Classification, Classes = 2 });
        RunSettingsFile.ReadResolved(Path.Combine(run, "config.json")).Model.Should().Be(model);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var test = metrics.RootElement.GetProperty("test");
        test.EnumerateObject().Select(p => p.Name).Should().Equal(MsaMetricNames.Has0Acc2, MsaMetricNames.Has0F1);
        var evaluated = EvaluationRun.Execute(SavedRun.Open(run), "test", Context());
        foreach (var property in test.EnumerateObject())
            evaluated[property.Name].Should().BeApproximately(property.Value.GetDouble(), 1e-9, property.Name);
    }

    [Fact]
    public async Task A_run_folder_of_the_earlier_layout_still_evaluates_to_the_same_metrics()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string legacy = WriteLegacyCopy(run, temp.Combine("legacy"));
        using var recorded = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));

        var saved = SavedRun.Open(legacy);
        var metrics = EvaluationRun.Execute(saved, "test", Context());

        saved.ModelFolder.Should().BeNull();
        foreach (var property in recorded.RootElement.GetProperty("test").EnumerateObject())
            metrics[property.Name].Should().BeApproximately(property.Value.GetDouble(), 1e-6, property.Name);
    }

    [Fact]
    public async Task A_run_folder_of_the_earlier_layout_whose_weights_do_not_fit_says_so()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string legacy = WriteLegacyCopy(run, temp.Combine("legacy"));
        string weights = Path.Combine(legacy, RunFiles.TrainableWeights);
        var tensors = SafetensorsFile.Load(weights);
        var key = tensors.Keys.First(k => k.StartsWith("head.", StringComparison.Ordinal));
        tensors[key] = TorchSharp.torch.zeros(2, 2);
        SafetensorsFile.Save(weights, tensors);
        foreach (var t in tensors.Values) t.Dispose();

        var result = await CliHarness.RunAsync("eval", legacy, "--data", "controlled");

        result.ExitCode.Should().Be(ExitCodes.RunError);
        result.Error.Should().Contain("earlier release").And.Contain(key);
    }

    [Fact]
    public async Task Eval_with_another_encoder_than_the_run_trained_on_is_refused()
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string copy = temp.Combine("run");
        CopyFolder(run, copy);
        string manifest = Path.Combine(copy, RunFiles.Model, "lrcmt_config.json");
        var model = JsonNode.Parse(File.ReadAllText(manifest))!;
        model["options"]!["TextEncoder"]!["PretrainedFolder"] = WriteOtherEncoder(temp.Combine("other-bert"));
        File.WriteAllText(manifest, model.ToJsonString());

        var result = await CliHarness.RunAsync("eval", copy, "--data", "controlled");

        result.ExitCode.Should().Be(ExitCodes.RunError);
        result.Error.Should().Contain("not the one this run was trained on").And.Contain("SHA-256");
    }

    /// <summary>
    /// The folder an earlier release wrote for the same run: its config.json (the model section in full, empty LoRA
    /// targets, the encoder in its own "Encoder" section) and every trainable tensor in trainable.safetensors, no model/ folder.
    /// </summary>
    private static string WriteLegacyCopy(string run, string legacy)
    {
        Directory.CreateDirectory(legacy);
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!.AsObject();
        var options = LRCMTModel.ReadOptions(Path.Combine(run, RunFiles.Model));
        var section = JsonSerializer.SerializeToNode(options, new JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } })!;
        section["TextEncoder"]!["PretrainedFolder"] = null;
        section["LoRA"]!["TargetModules"] = new JsonArray();
        settings.Remove("ModelFolder");
        settings["Model"] = section;
        settings["Encoder"] = new JsonObject { ["Source"] = options.TextEncoder.PretrainedFolder };
        File.WriteAllText(Path.Combine(legacy, "config.json"), settings.ToJsonString());
        using var model = LRCMTModel.Load(Path.Combine(run, RunFiles.Model), BertModel.FromPretrained(Fixtures.TinyBertFolder));
        SafetensorsFile.Save(Path.Combine(legacy, RunFiles.TrainableWeights),
            model.named_parameters().Where(p => p.parameter.requires_grad)
                .Select(p => new KeyValuePair<string, TorchSharp.torch.Tensor>(p.name, p.parameter)).ToList());
        return legacy;
    }

    /// <summary>The tiny BERT fixture with one weight changed: a different base encoder of the same shape.</summary>
    private static string WriteOtherEncoder(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "config.json", "vocab.txt" })
            File.Copy(Path.Combine(Fixtures.TinyBertFolder, file), Path.Combine(folder, file));
        var weights = SafetensorsFile.Load(Path.Combine(Fixtures.TinyBertFolder, "model.safetensors"));
        var first = weights.Keys.Order(StringComparer.Ordinal).First(k => weights[k].is_floating_point());
        using Scalar nudge = 0.01f, one = 1; // held: Scalars made inline (x + 0.01f passes a hidden alpha too) may be finalised while libtorch reads them
        weights[first] = weights[first].add(nudge, one);
        SafetensorsFile.Save(Path.Combine(folder, "model.safetensors"), weights);
        foreach (var t in weights.Values) t.Dispose();
        return folder;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to));
    }

    private static CliContext Context() => new(
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Ansi = AnsiSupport.No }),
        TextWriter.Null, default);
}
