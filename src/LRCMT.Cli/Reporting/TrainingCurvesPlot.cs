using ScottPlot;

namespace LRCMT.Cli.Reporting;

/// <summary>
/// Draws training-curves.png: training and validation loss on the left axis, the validation metric on the right in
/// the console's unit (accuracies and F1 in percent), whole-number epoch ticks, the restored epoch marked, the test
/// score in the title, and the legend outside the data area so it never hides a point. One epoch gives one visible
/// point per series on axes that start at the data, not a degenerate range.
/// </summary>
internal static class TrainingCurvesPlot
{
    /// <summary>Writes the PNG to <paramref name="path"/>; an empty history still gives a labelled, empty plot.</summary>
    internal static void Save(TrainingCurves curves, string path, int width = 900, int height = 500) =>
        Draw(curves).SavePng(path, width, height);

    /// <summary>The plot, titled with the run (variant and seed) and its test score.</summary>
    internal static Plot Draw(TrainingCurves curves)
    {
        var plot = new Plot();
        var points = curves.Points;
        double[] epochs = points.Select(p => (double)p.Epoch).ToArray();
        string metric = curves.ValidMetricName;
        double Shown(double value) => double.Parse(ConsoleReport.Format(metric, value), System.Globalization.CultureInfo.InvariantCulture);
        bool percent = ConsoleReport.Format(metric, 1) == "100.00";

        var train = plot.Add.Scatter(epochs, points.Select(p => p.TrainLoss).ToArray());
        train.LegendText = "train loss";
        var valid = plot.Add.Scatter(epochs, points.Select(p => p.ValidLoss).ToArray());
        valid.LegendText = "valid loss";
        var validMetric = plot.Add.Scatter(epochs, points.Select(p => Shown(p.ValidMetric)).ToArray());
        validMetric.LegendText = $"valid {metric}{(percent ? " (%)" : "")}";
        validMetric.LinePattern = LinePattern.Dashed;
        validMetric.Axes.YAxis = plot.Axes.Right;
        foreach (var series in new[] { train, valid, validMetric }) series.MarkerSize = 7;

        if (curves.BestEpoch is { } best)
        {
            var line = plot.Add.VerticalLine(best);
            line.LinePattern = LinePattern.Dotted;
            line.LegendText = $"restored weights (epoch {best})";
        }

        plot.Title(curves.TestMetric is { } test
            ? $"{curves.Run}: test {metric} {ConsoleReport.Format(metric, test)}{(percent ? "%" : "")}"
            : metric == LRCMT.Training.TrainerOptions.LossMetric ? $"{curves.Run} (epoch selected on the validation loss)"
            : $"{curves.Run} (no test score: the run was interrupted)");
        plot.XLabel("epoch");
        plot.YLabel("loss (L1)");
        plot.Axes.Right.Label.Text = metric + (percent ? " (%)" : "");

        // Whole epochs only, at most ~12 labels; a little room either side so the first and last points are visible.
        int last = points.Count > 0 ? points.Max(p => p.Epoch) : 1;
        int step = Math.Max(1, (int)Math.Ceiling(last / 12.0));
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int e = 1; e <= last; e += step) ticks.AddMajor(e, e.ToString(System.Globalization.CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(0.5, last + 0.5);

        double maxLoss = points.Count > 0 ? points.Max(p => Math.Max(Finite(p.TrainLoss), Finite(p.ValidLoss))) : 1;
        plot.Axes.SetLimitsY(0, maxLoss > 0 ? maxLoss * 1.15 : 1, plot.Axes.Left);
        if (percent) plot.Axes.SetLimitsY(0, 100, plot.Axes.Right);
        else if (points.Count > 0)
        {
            double low = points.Min(p => Shown(p.ValidMetric)), high = points.Max(p => Shown(p.ValidMetric));
            double pad = Math.Max((high - low) * 0.15, 0.05);
            plot.Axes.SetLimitsY(low - pad, high + pad, plot.Axes.Right);
        }

        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;
}
