using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;

namespace LRCMT.Cli.Commands;

/// <summary><c>eval</c>: rebuilds a saved run's model and reports MMSA metrics on one split of an MMSA file.</summary>
internal static class EvalCommand
{
    internal static Command Create(CliContext context)
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "a run folder written by train" };
        var data = new Option<string>("--data", "-d")
        {
            Description = "MMSA features file (.pkl), or 'controlled' for the benchmark the run was trained on",
            Required = true,
        };
        var split = new Option<string>("--split") { Description = "train | valid | test", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("train", "valid", "test");

        var command = new Command("eval", "Evaluate a saved run on a split of an MMSA features file.") { run, data, split };
        command.SetAction(parse =>
        {
            var saved = SavedRun.Open(parse.GetValue(run)!.FullName);
            var settings = saved.Settings;
            settings.Data.Source = parse.GetValue(data)!;
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Encoder);

            string splitName = parse.GetValue(split)!;
            var metrics = EvaluationRun.Execute(saved, splitName, context);
            ConsoleReport.Metrics(context.Console, $"{splitName} metrics", metrics);
            return ExitCodes.Success;
        });
        return command;
    }
}
