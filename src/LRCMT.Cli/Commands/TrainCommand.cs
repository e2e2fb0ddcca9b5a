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
        var seeds = SeedsOption.Create();
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(seeds);

        command.SetAction(parse =>
        {
            var settings = settingsOptions.Resolve(parse);
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Encoder);
            var seedList = SeedsOption.Resolve(parse, seeds, settingsOptions.Seed, settings);
            using var folder = RunFolder.Create(parse.GetValue(output) ?? OutputOptions.TimestampedFolder("runs", "run"), parse.GetValue(force));
            if (parse.GetValue(seeds) is not null)
            {
                bool stopped = MultiSeedTraining.Execute(settings, seedList, folder, context);
                folder.Commit();
                context.Console.MarkupLine($"Run folder: [bold]{Markup.Escape(folder.Target)}[/] (one sub-folder per seed, results.csv)");
                return stopped ? ExitCodes.Interrupted : ExitCodes.Success;
            }

            var outcome = TrainingRun.Execute(settings, folder, context);
            folder.Commit();

            ConsoleReport.Metrics(context.Console, "Test metrics", outcome.TestMetrics);
            ConsoleReport.Saved(context.Console, folder.Target, outcome);
            return outcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        });
    }
}
