using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary>
/// <c>eval</c>: rebuilds a saved run's model and reports MMSA metrics on one split, optionally with a seeded share of
/// the acoustic and visual frames (or whole streams) missing.
/// </summary>
internal static class EvalCommand
{
    internal static Command Create(CliContext context)
    {
        var options = new SavedRunOptions();
        var missing = new MissingDataOptions(severalRates: false);
        var command = new Command("eval", "Evaluate a saved run on a split of its data (or of another MMSA features file).");
        options.AddTo(command);
        missing.AddTo(command);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse, out int? batchSize);
            string split = parse.GetValue(options.Split) ?? "test";
            var absent = missing.Resolve(parse).SingleOrDefault();
            var metrics = EvaluationRun.Execute(saved, split, context, batchSize, absent);
            if (absent is not null)
                context.Console.MarkupLine(Markup.Escape(absent.WholeModalities
                    ? $"Missing data: each acoustic and visual stream dropped with probability {absent.Rate:0.###} (mask seed {absent.Seed})"
                    : $"Missing data: {absent.Rate:0.###} of each acoustic and visual stream's frames masked out (mask seed {absent.Seed})"));
            ConsoleReport.Metrics(context.Console, $"{split} metrics", metrics);
            return ExitCodes.Success;
        });
        return command;
    }
}
