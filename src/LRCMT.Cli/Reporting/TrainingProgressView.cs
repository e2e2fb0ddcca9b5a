using LRCMT.Cli.Experiments.Reports;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Reporting;

/// <summary>
/// Shows training as a Spectre.Console progress bar (steps, current loss, last validation metric) while the
/// trainer runs. The bar is redrawn from the trainer's own reports, on the training thread, not by Spectre's refresh
/// thread: a thread that allocates while libtorch computes can start a garbage collection inside a native call, and
/// TorchSharp passes numbers to libtorch as Scalars that such a collection may free under it (LRCMT.Interop.RootedScalars).
/// </summary>
internal static class TrainingProgressView
{
    /// <summary>Below this width the row drops the title and the metric's name and narrows the bar, so it fits on one line.</summary>
    internal const int CompactWidth = 110;

    // Spectre's own refresh rate: a faster redraw would cost steps, a slower one looks stuck.
    private const int RedrawMilliseconds = 100;

    internal static TrainingResult Run(IAnsiConsole console, string title, long totalSteps, Func<IProgress<TrainingProgress>, TrainingResult> train)
    {
        // At 80 columns the full row ("Resuming · epoch 10 · loss 1.234 · valid Has0_acc_2 99.9%", a 40-wide bar, three
        // time and percentage columns) does not fit, and Spectre then breaks the percentage inside its column.
        bool compact = console.Profile.Width < CompactWidth;
        string prefix = compact ? "" : $"{title} · ";
        string metric = compact ? "valid" : "valid Has0_acc_2";
        return console.Progress()
            .AutoClear(false)
            .AutoRefresh(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn { Width = compact ? 12 : 40 }, new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: totalSteps);
                string lastValidation = "";
                var sinceRedraw = System.Diagnostics.Stopwatch.StartNew();
                var progress = new Progress(report =>
                {
                    switch (report.Event)
                    {
                        case TrainingEvent.StepCompleted:
                            task.Value = report.Step;
                            task.Description = Markup.Escape($"{prefix}epoch {report.Epoch + 1} · loss {report.Loss:F3}{lastValidation}");
                            if (sinceRedraw.ElapsedMilliseconds >= RedrawMilliseconds)
                            {
                                context.Refresh();
                                sinceRedraw.Restart();
                            }
                            break;
                        case TrainingEvent.EpochCompleted when report.Validation is { } metrics:
                            lastValidation = $" · {metric} {100 * metrics.Values.GetValueOrDefault("Has0_acc_2", double.NaN):F1}%";
                            console.MarkupLine(Markup.Escape(
                                $"  epoch {report.Epoch + 1}: train loss {report.Loss:F3}, valid loss {report.ValidationLoss:F3}, " +
                                string.Join(", ", metrics.Values.Select(m => $"{m.Key} {ConsoleReport.Format(m.Key, m.Value)}{(MetricUnits.IsPercentage(m.Key) ? "%" : "")}"))));
                            break;
                    }
                });
                context.Refresh();
                var result = train(progress);
                task.Value = task.MaxValue;
                context.Refresh();
                return result;
            });
    }

    // IProgress<T> that reports synchronously (System.Progress<T> would post to a thread pool and reorder events).
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
