using System.CommandLine;
using LRCMT.Cli.Experiments;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary><c>predict</c>: writes a saved run's prediction for every sample of a split as CSV (id, prediction, label).</summary>
internal static class PredictCommand
{
    internal static Command Create(CliContext context)
    {
        var options = new SavedRunOptions();
        var output = new Option<string?>("--output", "-o")
            { Description = "CSV file to write (default: <run>/predictions-<split>.csv); replaced if it exists" };
        var engine = OptionValues.OneOf("--engine", "what runs the model: torch (TorchSharp, default) or onnx (ONNX Runtime on the file 'lrcmt export' wrote)", "torch", "onnx");
        var onnxFile = new Option<string?>("--onnx") { Description = "the exported model for --engine onnx (default: <run>/model.onnx)" };
        var command = new Command("predict", "Write a saved run's per-sample predictions (id, prediction, label) on a split as CSV.");
        options.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(engine);
        command.Options.Add(onnxFile);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse, out int? batchSize);
            string split = parse.GetValue(options.Split) ?? "test";
            string csv = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(saved.Folder, $"predictions-{split}.csv"));
            string? onnx = parse.GetValue(engine) == "onnx" ? Path.GetFullPath(parse.GetValue(onnxFile) ?? ExportRun.DefaultModelPath(saved)) : null;
            if (onnx is null && parse.GetValue(onnxFile) is not null)
                throw new CliException(ExitCodes.UsageError, "--onnx names the model for --engine onnx; add --engine onnx.");
            int rows = PredictionRun.Execute(saved, split, csv, context, batchSize, onnx);
            context.Console.MarkupLine($"Predictions: [bold]{Markup.Escape(csv)}[/] ({rows} samples, {split} split)");
            return ExitCodes.Success;
        });
        return command;
    }
}
