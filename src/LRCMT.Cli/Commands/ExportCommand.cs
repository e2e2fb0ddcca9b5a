using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Export;
using LRCMT.Onnx;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary><c>export</c>: writes a saved run's model as ONNX, with its manifest and tokenizer, for ONNX Runtime.</summary>
internal static class ExportCommand
{
    internal static Command Create(CliContext context)
    {
        var options = new SavedRunOptions();
        var output = new Option<string?>("--output", "-o")
            { Description = "ONNX file to write (default: <run>/model.onnx); <name>.json and <name>.tokenizer/ go beside it; replaced if they exist" };
        var external = new Option<bool>("--external-weights")
            { Description = "write the weights to <name>.onnx.data beside the model (ONNX external data: ONNX Runtime maps them instead of copying, less peak memory at load)" };
        var command = new Command("export",
            "Export a saved run's model to ONNX (opset 17, float32, adapters folded) with a JSON manifest and its tokenizer, for ONNX Runtime without libtorch.");
        options.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(external);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse);
            string path = Path.GetFullPath(parse.GetValue(output) ?? ExportRun.DefaultModelPath(saved));
            if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.UsageError, $"--output must name a .onnx file, not '{path}'.");
            var result = ExportRun.Execute(saved, path, context, new OnnxExportOptions(parse.GetValue(external)));
            context.Console.MarkupLine($"ONNX model: [bold]{Markup.Escape(result.Path)}[/] ({result.Bytes / 1e6:F1} MB, opset {result.Opset}); " +
                $"manifest {Markup.Escape(Path.GetFileName(OnnxModelManifest.PathFor(result.Path)))}, tokenizer {Markup.Escape(Path.GetFileName(ExportRun.TokenizerFolder(result.Path)))}/");
            return ExitCodes.Success;
        });
        return command;
    }
}
