using System.CommandLine;
using LRCMT.Configuration;
using LRCMT.Cli.Experiments;
using Spectre.Console;

namespace LRCMT.Cli.Commands;

/// <summary><c>explain</c>: pictures of a saved run's cross-modal attention for the first few samples of a split.</summary>
internal static class ExplainCommand
{
    internal static Command Create(CliContext context)
    {
        var options = new SavedRunOptions();
        var samples = OptionValues.Int("--samples", "how many samples of the split to draw (default 4)",
            (path, count) => SettingRules.InRange(path, count, 1, 64));
        var output = new Option<string?>("--output", "-o") { Description = "folder for the PNGs (default: <run>/explain-<split>); files in it are replaced" };
        var command = new Command("explain",
            "Draw a saved run's cross-modal attention for a few samples: which visual frames each acoustic frame attended to " +
            "(and back), and the text's attention over the joint acoustic-visual memory.");
        options.AddTo(command);
        command.Options.Add(samples);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var saved = options.Open(parse);
            string split = parse.GetValue(options.Split) ?? "test";
            string folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(saved.Folder, $"explain-{split}"));
            var files = ExplanationRun.Execute(saved, split, parse.GetValue(samples) ?? 4, folder, context);
            if (files.Count == 0)
                context.Console.MarkupLine("[yellow]This variant has no cross-modal attention to draw (text only).[/]");
            else
                context.Console.MarkupLine($"Attention maps: [bold]{Markup.Escape(folder)}[/] ({files.Count} PNGs)");
            return ExitCodes.Success;
        });
        return command;
    }
}
