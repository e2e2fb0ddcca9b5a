using System.CommandLine;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary>
/// <c>ablate</c>: trains the paper's variants with the same data, encoder and seeds (<c>--seeds</c> for several), and
/// writes results.csv, ablation.json and ablation.md with aggregates and paired comparisons (plus one sub-folder per
/// variant and seed).
/// </summary>
internal static class AblateCommand
{
    internal static readonly ModelVariant[] DefaultVariants =
        [ModelVariant.Lrcmt, ModelVariant.TextOnly, ModelVariant.NoVisualAcousticStage, ModelVariant.FullFineTuning];

    internal static Command Create(CliContext context)
    {
        var settingsOptions = new SettingsOptions(SettingsScope.Ablate);
        var output = OutputOptions.Output("runs/ablation-<timestamp>");
        var force = OutputOptions.Force();
        var variants = OptionValues.Names<ModelVariant>("--variant",
            "variants to compare, e.g. --variant Lrcmt TextOnly MulT Tfn Lmf MagBert (default: Lrcmt TextOnly NoVisualAcousticStage FullFineTuning); " +
            "the baselines keep the encoder's tuning (LoRA), so a comparison isolates the fusion");
        var seeds = SeedsOption.Create();
        var missing = new MissingDataOptions(severalRates: true);
        var difficulty = OptionValues.OneOf("--difficulty",
            "controlled benchmark: unsaturated (default: weak events among strong ones, docs/ablation.md §6) or settings (the settings' own, e.g. the easy default of train)",
            "unsaturated", "settings");
        var protocol = new ProtocolOption();
        var encoderRates = new Option<double[]>("--ft-encoder-lrs")
        {
            Description = "full fine-tuning: encoder learning rates to try, the best mean validation metric wins (default: 1e-5 3e-5 1e-4)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("ablate", "Compare LRCMT with its variants (text-only, no-V↔A, full fine-tuning) and the baselines (MulT, TFN, LMF, MAG-BERT) under the same seeds.");
        settingsOptions.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(variants);
        command.Options.Add(seeds);
        command.Options.Add(encoderRates);
        missing.AddTo(command);
        protocol.AddTo(command);
        command.Options.Add(difficulty);

        command.SetAction(parse =>
        {
            var settings = settingsOptions.Resolve(parse);
            Preflight.CheckData(settings.Data);
            Preflight.CheckEncoder(settings.Model.TextEncoder);
            Preflight.CheckDevice(settings.Device);
            var chosen = parse.GetValue(variants) is { Length: > 0 } given ? given : DefaultVariants;
            if (settings.Data.IsControlled && (parse.GetValue(difficulty) ?? "unsaturated") == "unsaturated")
                settings.Data.Controlled.UseUnsaturatedDifficulty();
            var seedList = SeedsOption.Resolve(parse, seeds, settingsOptions.Seed, settings);
            bool applySeeds = parse.GetValue(seeds) is not null;
            if (protocol.Apply(parse, settings, seedsGiven: applySeeds || parse.GetValue(settingsOptions.Seed) is not null) is { } mmsaSeeds)
            {
                seedList = mmsaSeeds;
                applySeeds = true;
            }
            var rates = parse.GetValue(encoderRates) is { Length: > 0 } r ? r : AblationRun.DefaultEncoderRates;
            // Each rate is a TrainerOptions.EncoderLearningRate: the library's rule for it, named by the flag.
            if (rates.Select(rate => SettingRules.NonNegative("--ft-encoder-lrs", rate)).OfType<SettingProblem>().FirstOrDefault() is { } problem)
                throw new CliException(ExitCodes.UsageError, problem.ToString());
            using var folder = RunFolder.Create(parse.GetValue(output) ?? OutputOptions.TimestampedFolder("runs", "ablation"), parse.GetValue(force));

            foreach (var line in folder.Recovered) context.Console.MarkupLine(Markup.Escape(line));

            bool interrupted = folder.CommitAfter(() => AblationRun.Execute(settings, chosen, seedList, applySeeds, rates, folder, context, missing.Resolve(parse)));
            context.Console.MarkupLine($"Ablation folder: [bold]{Markup.Escape(folder.Target)}[/]");
            return interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
        });
        return command;
    }
}
