using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary><c>train</c>: trains one model and writes a run folder. The root command runs the same action with defaults.</summary>
internal static class TrainCommand
{
    internal static Command Create(CliContext context)
    {
        var command = new Command("train", "Train LRCMT (or an ablation variant) and write a run folder with metrics, adapter, checkpoint, configuration and curves.");
        Configure(command, context);
        return command;
    }

    /// <summary>Adds the train options and action to <paramref name="command"/> (used for <c>train</c> and the root).</summary>
    internal static void Configure(Command command, CliContext context)
    {
        var settingsOptions = new SettingsOptions();
        settingsOptions.AddTo(command);
        var output = OutputOptions.Output("runs/run-<timestamp>");
        var force = OutputOptions.Force();
        command.Options.Add(output);
        command.Options.Add(force);

        command.SetAction(parse =>
        {
            var settings = settingsOptions.Resolve(parse);
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Encoder);
            using var folder = RunFolder.Create(parse.GetValue(output) ?? OutputOptions.TimestampedFolder("runs", "run"), parse.GetValue(force));

            foreach (var line in folder.Recovered) context.Console.MarkupLine(Markup.Escape(line));

            var outcome = folder.CommitAfter(() => TrainingRun.Execute(settings, folder, context));

            ConsoleReport.Metrics(context.Console, "Test metrics", outcome.TestMetrics);
            ConsoleReport.Saved(context.Console, folder.Target, outcome);
            return outcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        });
    }
}
