using System.Text.Json;
using LRCMT.Cli.Reporting;

namespace LRCMT.Cli.Runs;

/// <summary>
/// metrics.json: MMSA's metric names and unrounded values (accuracies as fractions, as MMSA returns them) for the
/// test split and the selected validation epoch, plus the per-epoch history behind training-curves.png.
/// </summary>
internal static class MetricsFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    internal static void Save(
        string path,
        IReadOnlyDictionary<string, double>? test,
        IReadOnlyDictionary<string, double>? valid,
        TrainingCurves curves,
        bool interrupted)
    {
        var document = new
        {
            status = interrupted ? "interrupted" : "completed",
            units = "MMSA values: accuracies and F1 as fractions in [0, 1], MAE and Corr raw; epochs numbered from 1",
            test,
            valid,
            selection_metric = curves.ValidMetricName,
            // The epoch whose weights the run kept (and whose numbers "valid" holds); null when none was evaluated.
            selected_epoch = curves.BestEpoch,
            history = curves.Points.Select(p => new
            {
                epoch = p.Epoch, train_loss = p.TrainLoss, valid_loss = p.ValidLoss, valid_metric = p.ValidMetric,
            }),
        };
        // Atomically (a run killed mid-write keeps the previous file); a failed write is an OutputFileException (exit 10).
        IO.OutputFile.Write(path, () => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(document, Json)));
    }
}
