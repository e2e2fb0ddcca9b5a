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
        var command = new Command("predict", "Write a saved run's per-sample predictions (id, prediction, label) on a split as CSV.");
        options.AddTo(command);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse, out int? batchSize);
            string split = parse.GetValue(options.Split) ?? "test";
            string csv = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(saved.Folder, $"predictions-{split}.csv"));
            int rows = PredictionRun.Execute(saved, split, csv, context, batchSize);
            context.Console.MarkupLine($"Predictions: [bold]{Markup.Escape(csv)}[/] ({rows} samples, {split} split)");
            return ExitCodes.Success;
        });
        return command;
    }
}
