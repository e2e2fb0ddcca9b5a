using LRCMT.Cli.Experiments;
using LRCMT.Cli.Experiments.Reports;
using Spectre.Console;

namespace LRCMT.Cli.Reporting;

/// <summary>The tables the CLI prints (Spectre.Console).</summary>
internal static class ConsoleReport
{
    /// <summary>One row per MMSA metric; accuracies and F1 as percentages, MAE and Corr as they are.</summary>
    internal static void Metrics(IAnsiConsole console, string title, IReadOnlyDictionary<string, double>? metrics)
    {
        if (metrics is null)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(title)}: not computed (the run was interrupted).[/]");
            return;
        }
        var table = new Table().Title(Markup.Escape(title)).AddColumn("Metric").AddColumn(new TableColumn("Value").RightAligned());
        foreach (var (name, value) in metrics) table.AddRow(Markup.Escape(name), Format(name, value));
        console.Write(table);
    }

    /// <summary>Where the run folder is and what it holds.</summary>
    internal static void Saved(IAnsiConsole console, string folder, TrainingOutcome outcome)
    {
        if (outcome.Interrupted)
            console.MarkupLine($"[yellow]Interrupted after epoch {outcome.CompletedEpochs}; the last checkpoint was kept.[/]");
        console.MarkupLine(Markup.Escape(outcome.ParameterReport));
        console.MarkupLine($"Run folder: [bold]{Markup.Escape(folder)}[/] ({outcome.Elapsed.TotalSeconds:F0} s)");
    }

    /// <summary>Accuracies and F1 scores as percentages (as papers report them), error and correlation raw.</summary>
    internal static string Format(string metric, double value) => MetricUnits.Format(metric, value);
}
