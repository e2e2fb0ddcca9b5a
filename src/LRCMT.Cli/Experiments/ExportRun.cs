using LRCMT.Cli.Runs;
using LRCMT.Export;
using LRCMT.Models;
using LRCMT.Onnx;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Writes a saved run's model as ONNX with what a service needs beside it: <c>&lt;name&gt;.json</c> (inputs, outputs,
/// tokenizer, labels), <c>&lt;name&gt;.tokenizer/</c> (a copy of the encoder's tokenizer files) and, with external
/// weights, <c>&lt;name&gt;.onnx.data</c>.
/// </summary>
internal static class ExportRun
{
    /// <summary>The ONNX file <c>export</c> writes and <c>predict --engine onnx</c> reads when none is named.</summary>
    internal static string DefaultModelPath(SavedRun run) => Path.Combine(run.Folder, "model.onnx");

    /// <summary>The tokenizer folder written beside <paramref name="modelPath"/>.</summary>
    internal static string TokenizerFolder(string modelPath) => Path.ChangeExtension(modelPath, null) + ".tokenizer";

    internal static OnnxExportResult Execute(SavedRun run, string modelPath, CliContext context, OnnxExportOptions options)
    {
        using var restored = RestoredModel.Open(run, context);
        var result = OnnxExporter.Export(restored.Lrcmt("ONNX export"), modelPath, options);

        var tokenizerFolder = TokenizerFolder(result.Path);
        Directory.CreateDirectory(tokenizerFolder);
        foreach (var file in restored.Encoder.TokenizerFiles) File.Copy(file, Path.Combine(tokenizerFolder, Path.GetFileName(file)), overwrite: true);

        var head = restored.Model.Options.Head;
        var manifest = new OnnxModelManifest
        {
            ModelFile = Path.GetFileName(result.Path),
            Opset = result.Opset,
            Inputs = result.Inputs,
            Outputs = result.Outputs,
            Tokenizer = new OnnxTokenizerInfo("bert", Path.GetFileName(tokenizerFolder), run.Settings.Data.MaxTextTokens, restored.Encoder.Tokenizer.PaddingTokenId),
            Labels = new OnnxLabelInfo(restored.IsClassifier ? "classification" : "regression", restored.Data.MetricSet.ToString(),
                restored.IsClassifier ? head.Classes : 0),
        };
        manifest.Save(OnnxModelManifest.PathFor(result.Path));
        return result;
    }
}
