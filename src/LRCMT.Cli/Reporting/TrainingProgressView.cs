using LRCMT.Cli.Experiments.Reports;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Reporting;

/// <summary>
/// Shows training as a Spectre.Console progress bar (steps, current loss, last validation metric) while the
/// trainer runs; the trainer reports on its own thread, which Spectre's progress context allows.
/// </summary>
internal static class TrainingProgressView
{
    internal static TrainingResult Run(IAnsiConsole console, string title, long totalSteps, Func<IProgress<TrainingProgress>, TrainingResult> train)
    {
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: totalSteps);
                string lastValidation = "";
                var progress = new Progress(report =>
                {
                    switch (report.Event)
                    {
                        case TrainingEvent.StepCompleted:
                            task.Value = report.Step;
                            task.Description = Markup.Escape($"{title} · epoch {report.Epoch + 1} · loss {report.Loss:F3}{lastValidation}");
                            break;
                        case TrainingEvent.EpochCompleted when report.Validation is { } metrics:
                            lastValidation = $" · valid Has0_acc_2 {100 * metrics.Values.GetValueOrDefault("Has0_acc_2", double.NaN):F1}%";
                            console.MarkupLine(Markup.Escape(
                                $"  epoch {report.Epoch + 1}: train loss {report.Loss:F3}, valid loss {report.ValidationLoss:F3}, " +
                                string.Join(", ", metrics.Values.Select(m => $"{m.Key} {ConsoleReport.Format(m.Key, m.Value)}{(MetricUnits.IsPercentage(m.Key) ? "%" : "")}"))));
                            break;
                    }
                });
                var result = train(progress);
                task.Value = task.MaxValue;
                return result;
            });
    }

    // IProgress<T> that reports synchronously (System.Progress<T> would post to a thread pool and reorder events).
    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
