using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;

namespace LRCMT.Cli.Commands;

/// <summary><c>eval</c>: rebuilds a saved run's model and reports MMSA metrics on one split.</summary>
internal static class EvalCommand
{
    internal static Command Create(CliContext context)
    {
        var options = new SavedRunOptions();
        var command = new Command("eval", "Evaluate a saved run on a split of its data (or of another MMSA features file).");
        options.AddTo(command);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse, out int? batchSize);
            string split = parse.GetValue(options.Split) ?? "test";
            var metrics = EvaluationRun.Execute(saved, split, context, batchSize);
            ConsoleReport.Metrics(context.Console, $"{split} metrics", metrics);
            return ExitCodes.Success;
        });
        return command;
    }
}
