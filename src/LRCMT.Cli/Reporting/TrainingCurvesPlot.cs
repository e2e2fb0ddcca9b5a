using LRCMT.Cli.Experiments.Reports;
using ScottPlot;

namespace LRCMT.Cli.Reporting;

/// <summary>Draws training-curves.png: training and validation loss on the left axis, the validation metric on the right.</summary>
internal static class TrainingCurvesPlot
{
    /// <summary>Writes the PNG to <paramref name="path"/>; an empty history still gives a labelled, empty plot.</summary>
    internal static void Save(TrainingCurves curves, string path, int width = 900, int height = 500)
    {
        var plot = new Plot();
        double[] epochs = curves.Points.Select(p => (double)p.Epoch).ToArray();

        var train = plot.Add.Scatter(epochs, curves.Points.Select(p => p.TrainLoss).ToArray());
        train.LegendText = "train loss";
        var valid = plot.Add.Scatter(epochs, curves.Points.Select(p => p.ValidLoss).ToArray());
        valid.LegendText = "valid loss";
        // Accuracies in % as everywhere people read them (MetricUnits); metrics.json keeps MMSA's fractions.
        double scale = MetricUnits.Scale(curves.ValidMetricName);
        var metric = plot.Add.Scatter(epochs, curves.Points.Select(p => scale * p.ValidMetric).ToArray());
        metric.LegendText = $"valid {MetricUnits.Label(curves.ValidMetricName)}";
        metric.LinePattern = LinePattern.Dashed;
        metric.Axes.YAxis = plot.Axes.Right;

        plot.Title("LRCMT training");
        plot.XLabel("epoch (from 1)");
        plot.YLabel("loss (L1)");
        plot.Axes.Right.Label.Text = MetricUnits.Label(curves.ValidMetricName);
        plot.ShowLegend(Alignment.UpperCenter);
        plot.SavePng(path, width, height);
    }
}
