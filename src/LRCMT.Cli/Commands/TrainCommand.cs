using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary>
/// <c>train</c>: trains one model and writes a run folder; <c>train --resume &lt;run&gt;</c> continues a run from its
/// trainer checkpoint with the run's own settings. The root command runs the same action with defaults.
/// </summary>
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
        var settingsOptions = new SettingsOptions(SettingsScope.Train);
        settingsOptions.AddTo(command);
        var resume = new Option<DirectoryInfo?>("--resume")
        {
            Description = "continue the run in this folder from its checkpoint, with its settings (--epochs may raise the total); " +
                          "the results replace the folder unless --output is given",
        };
        var output = OutputOptions.Output("runs/run-<timestamp>");
        var force = OutputOptions.Force();
        var seeds = SeedsOption.Create();
        command.Options.Add(resume);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(seeds);

        command.SetAction(parse =>
        {
            string? resumed = parse.GetValue(resume)?.FullName;
            var settings = resumed is null ? settingsOptions.Resolve(parse) : ResumeSettings(parse, settingsOptions, resumed, out _);
            string? checkpoint = resumed is null ? null : Path.Combine(resumed, RunFiles.TrainerCheckpoint, Trainer.LastCheckpointName);
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Model.TextEncoder);
            Preflight.CheckDevice(settings.Device);
            if (parse.GetValue(seeds) is not null)
            {
                if (resumed is not null) throw new CliException(ExitCodes.UsageError, "--resume continues one run; it cannot take --seeds.");
                var seedList = SeedsOption.Resolve(parse, seeds, settingsOptions.Seed, settings);
                using var sweepFolder = RunFolder.Create(parse.GetValue(output) ?? OutputOptions.TimestampedFolder("runs", "run"), parse.GetValue(force));
                bool stopped = MultiSeedTraining.Execute(settings, seedList, sweepFolder, context);
                sweepFolder.Commit();
                context.Console.MarkupLine($"Run folder: [bold]{Markup.Escape(sweepFolder.Target)}[/] (one sub-folder per seed, results.csv)");
                return stopped ? ExitCodes.Interrupted : ExitCodes.Success;
            }

            string target = parse.GetValue(output) ?? resumed ?? OutputOptions.TimestampedFolder("runs", "run");
            bool replacing = resumed is not null && Path.GetFullPath(target) == resumed;
            using var folder = RunFolder.Create(target, parse.GetValue(force) || replacing);

            foreach (var line in folder.Recovered) context.Console.MarkupLine(Markup.Escape(line));

            var outcome = folder.CommitAfter(() => TrainingRun.Execute(settings, folder, context, checkpoint));

            ConsoleReport.Metrics(context.Console, "Test metrics", outcome.TestMetrics);
            ConsoleReport.Saved(context.Console, folder.Target, outcome);
            return outcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        });
    }

    // A resumed run keeps its settings; only the epoch budget and where it runs may change.
    private static Settings.RunSettings ResumeSettings(ParseResult parse, SettingsOptions options, string run, out SavedRun saved)
    {
        var allowed = new HashSet<Option> { options.Epochs, options.Device, options.Threads };
        var refused = options.All.Where(o => !allowed.Contains(o) && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (refused.Count > 0)
            throw new CliException(ExitCodes.UsageError,
                $"--resume continues the run with the settings in its config.json; {string.Join(", ", refused)} cannot change them " +
                "(only --epochs, --device and --threads can).");
        saved = SavedRun.Open(run);
        string checkpoint = Path.Combine(run, RunFiles.TrainerCheckpoint, Trainer.LastCheckpointName);
        if (!File.Exists(checkpoint))
            throw new CliException(ExitCodes.RunError, $"The run folder '{run}' has no trainer checkpoint ({checkpoint}); it cannot be resumed.");
        var settings = saved.Settings;
        if (parse.GetValue(options.Epochs) is { } epochs) settings.Training = settings.Training with { Epochs = epochs };
        if (parse.GetValue(options.Device) is { } device) settings.Device = device;
        if (parse.GetValue(options.Threads) is { } threads) settings.Threads = threads;
        Settings.RunSettingsFile.Validate(settings);
        return settings;
    }
}
