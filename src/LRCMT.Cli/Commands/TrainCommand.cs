using System.CommandLine;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
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
            Description = "continue the run of this name (its --output; a killed run is found too) from its last checkpoint, with its " +
                          "own settings (only more --epochs, --device, --threads may change); the results replace it unless --output is given",
        };
        var output = OutputOptions.Output("runs/run-<timestamp>");
        var force = OutputOptions.Force();
        var seeds = SeedsOption.Create();
        var protocol = new ProtocolOption();
        command.Options.Add(resume);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(seeds);
        protocol.AddTo(command);

        command.SetAction(parse =>
        {
            string? resumeName = parse.GetValue(resume)?.FullName;
            if (resumeName is not null && parse.GetValue(seeds) is not null)
                throw new CliException(ExitCodes.UsageError, "--resume continues one run; it cannot take --seeds.");
            var found = resumeName is null ? null : ResumableRun.Find(resumeName);
            var continuation = found is null ? null : Continue(parse, settingsOptions, protocol, found);
            var settings = continuation?.Settings ?? settingsOptions.Resolve(parse);
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Model.TextEncoder);
            Preflight.CheckDevice(settings.Device);
            if (continuation is null
                && protocol.Apply(parse, settings, seedsGiven: parse.GetValue(seeds) is not null || parse.GetValue(settingsOptions.Seed) is not null) is { } mmsaSeeds)
                settings.ApplySeed(mmsaSeeds[0]); // one run: MMSA's first seed (--seeds chooses a sweep's)
            if (parse.GetValue(seeds) is not null)
            {
                var seedList = SeedsOption.Resolve(parse, seeds, settingsOptions.Seed, settings);
                using var sweepFolder = RunFolder.Create(parse.GetValue(output) ?? OutputOptions.TimestampedFolder("runs", "run"), parse.GetValue(force));
                bool stopped = MultiSeedTraining.Execute(settings, seedList, sweepFolder, context);
                sweepFolder.Commit();
                context.Console.MarkupLine($"Run folder: [bold]{Markup.Escape(sweepFolder.Target)}[/] (one sub-folder per seed, results.csv)");
                return stopped ? ExitCodes.Interrupted : ExitCodes.Success;
            }

            // A resumed run goes back under its own name (replacing the folder it continues) unless --output says otherwise.
            string target = parse.GetValue(output) ?? found?.Name ?? OutputOptions.TimestampedFolder("runs", "run");
            bool replacing = found is not null && Path.GetFullPath(target) == found.Folder;
            using var folder = RunFolder.Create(target, parse.GetValue(force) || replacing);

            foreach (var line in found?.Notes ?? []) context.Console.MarkupLine(Markup.Escape(line));
            foreach (var line in folder.Recovered) context.Console.MarkupLine(Markup.Escape(line));

            var outcome = folder.CommitAfter(() => TrainingRun.Execute(settings, folder, context, continuation));
            // A kept run (killed or failed) continued under its name lives on there: its copy beside the name goes.
            if (found is { IsKept: true } && Path.GetFullPath(folder.Target) == found.Name && Directory.Exists(found.Folder))
                Directory.Delete(found.Folder, recursive: true);

            ConsoleReport.Metrics(context.Console, "Test metrics", outcome.TestMetrics);
            ConsoleReport.Saved(context.Console, folder.Target, outcome);
            return outcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        });
    }

    /// <summary>
    /// A resumed run keeps its settings. The settings file and flags given with <c>--resume</c> are applied on top of
    /// the run's own, and anything that would then differ is refused with the list of differences — except what a
    /// continuation may change: more epochs, the device and the threads, which config.json records as a resumption
    /// (its settings stay those the run started with, so <c>train -c config.json</c> still repeats the run).
    /// </summary>
    private static TrainingRun.Continuation Continue(ParseResult parse, SettingsOptions options, ProtocolOption protocol, ResumableRun run)
    {
        var recorded = run.Settings;
        // The run's settings as they stand: its epoch budget is the last resumption's.
        var current = RunSettingsFile.Clone(recorded);
        current.Training = current.Training with { Epochs = recorded.EffectiveEpochs };
        if (recorded.Resumptions.Count > 0)
        {
            current.Device = recorded.Resumptions[^1].Device;
            current.Threads = recorded.Resumptions[^1].Threads;
        }
        var asked = options.Resolve(parse, baseline: current);
        protocol.ApplyToResumed(parse, asked, configured: () =>
        {
            // The run with the training options a new run would start from, then the settings file and flags on top.
            var untrained = RunSettingsFile.Clone(current);
            untrained.Training = new TrainerOptions();
            return options.Resolve(parse, baseline: untrained);
        });

        var refused = new List<string>();
        foreach (var difference in SettingsDifferences.Between(current, asked))
        {
            if (difference.Path is nameof(RunSettings.Device) or nameof(RunSettings.Threads)) continue;
            if (difference.Path == $"{nameof(RunSettings.Training)}.{nameof(TrainerOptions.Epochs)}" && asked.Training.Epochs > current.Training.Epochs) continue;
            refused.Add(difference.Path == $"{nameof(RunSettings.Training)}.{nameof(TrainerOptions.Epochs)}"
                ? $"{difference} (a resumed run can only get more epochs than its {current.Training.Epochs})"
                : difference.ToString());
        }
        if (refused.Count > 0)
            throw new CliException(ExitCodes.UsageError,
                $"--resume continues '{run.Name}' with its own settings (config.json); only more --epochs, --device and --threads may change. " +
                $"Asked to differ:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", refused)}");

        var record = RunSettingsFile.Clone(recorded);
        record.Resumptions.Add(new Resumption
        {
            At = DateTime.UtcNow, Epochs = asked.Training.Epochs, Device = asked.Device, Threads = asked.Threads,
        });
        return new TrainingRun.Continuation(asked, record, run.Checkpoint);
    }
}
