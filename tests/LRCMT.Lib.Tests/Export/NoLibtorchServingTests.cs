using System.Diagnostics;
using FluentAssertions;
using LRCMT.Export;
using LRCMT.Onnx;
using LRCMT.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Export;

/// <summary>
/// samples/OnnxInference serves an exported LRCMT in a child process: it tokenizes, pads and predicts with ONNX Runtime,
/// and its /proc/self/maps shows ONNX Runtime loaded and no libtorch (nor TorchSharp's native shim).
/// </summary>
public sealed class NoLibtorchServingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-serve-").FullName;

    [Fact]
    public void The_onnx_inference_sample_predicts_without_loading_libtorch()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/maps is Linux's");
        var modelPath = Path.Combine(_folder, "model.onnx");
        using (var model = ExportTestModels.Lrcmt(classes: 3))
            Deploy(OnnxExporter.Export(model, modelPath));

        var (exitCode, output) = RunSample(modelPath, "a fine film", "dull", "--show-native-libraries");

        exitCode.Should().Be(0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Where(l => l.StartsWith("class ", StringComparison.Ordinal)).Should().HaveCount(2, output);
        var natives = lines.Where(l => l.StartsWith("native: ", StringComparison.Ordinal)).ToList();
        natives.Should().Contain(l => l.Contains("libonnxruntime", StringComparison.Ordinal), "the sample must really have run ONNX Runtime");
        natives.Should().NotContain(l => l.Contains("torch", StringComparison.OrdinalIgnoreCase), output);
    }

    // What 'lrcmt export' writes beside the model: the manifest and the tokenizer folder.
    private void Deploy(OnnxExportResult result)
    {
        var tokenizer = Path.Combine(_folder, "model.tokenizer");
        Directory.CreateDirectory(tokenizer);
        File.Copy(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"), Path.Combine(tokenizer, "vocab.txt"));
        new OnnxModelManifest
        {
            ModelFile = "model.onnx",
            Opset = result.Opset,
            Inputs = result.Inputs,
            Outputs = result.Outputs,
            Tokenizer = new OnnxTokenizerInfo("bert", "model.tokenizer", 16, 0),
            Labels = new OnnxLabelInfo("classification", null, 3),
        }.Save(OnnxModelManifest.PathFor(result.Path));
    }

    private static (int ExitCode, string Output) RunSample(params string[] arguments)
    {
        // tests/LRCMT.Lib.Tests/bin/<configuration>/net10.0/ → samples/OnnxInference/bin/<configuration>/net10.0/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var root = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var sample = Path.Combine(root, "samples", "OnnxInference", "bin", configuration, output.Name, "OnnxInference.dll");
        File.Exists(sample).Should().BeTrue($"the sample is built with the tests ({sample})");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(sample);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit(120_000).Should().BeTrue("the sample finishes in seconds");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
