using System.Globalization;
using LRCMT.Cli.Runs;
using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>Runs a saved run's model over one split and writes one CSV row per sample: id, prediction, label.</summary>
internal static class PredictionRun
{
    /// <returns>The number of rows written.</returns>
    /// <param name="onnxModel">An exported model to run with ONNX Runtime instead of the TorchSharp model, or null.</param>
    internal static int Execute(SavedRun run, string split, string csvPath, CliContext context, int? batchSize = null, string? onnxModel = null)
    {
        using var onnx = onnxModel is null ? null : OnnxEngine.Open(onnxModel, run.Settings.Threads);
        using var restored = RestoredModel.Open(run, context, batchSize);
        var model = restored.Model;
        model.eval();
        var device = model.parameters().First().device;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(csvPath));
        if (directory is not null) IO.OutputFile.Write(directory, () => Directory.CreateDirectory(directory));

        // Written beside the target and renamed at the end, so a failed run never leaves half a file; a failed write
        // (disk full, ulimit -f, permission) names the CSV (exit code WriteError) and removes the partial file.
        string partial = csvPath + ".partial";
        int rows = 0;
        try
        {
            IO.OutputFile.Write(csvPath, () =>
            {
                using (var writer = new StreamWriter(partial))
                using (torch.no_grad())
                {
                    writer.WriteLine("id,prediction,label");
                    foreach (var batch in restored.Loader(split).Epoch(0))
                    {
                        context.Cancellation.ThrowIfCancellationRequested();
                        using var scope = torch.NewDisposeScope();
                        using (batch)
                        {
                            var input = device.type == DeviceType.CPU ? batch : batch.To(device);
                            // A classification head predicts the argmax class (labels are then classes too).
                            var predictions = onnx?.Predict(batch) ?? Torch(model, input, restored.IsClassifier);
                            var labels = batch.Labels?.to(torch.ScalarType.Float32).data<float>().ToArray();
                            for (int i = 0; i < predictions.Length; i++, rows++)
                                writer.WriteLine(string.Join(',', Csv(batch.Ids[i]), Number(predictions[i]), labels is null ? "" : Number(labels[i])));
                            if (!ReferenceEquals(input, batch)) input.Dispose();
                        }
                    }
                }
                File.Move(partial, csvPath, overwrite: true);
            });
        }
        catch
        {
            if (File.Exists(partial)) File.Delete(partial);
            throw;
        }
        return rows;
    }

    private static float[] Torch(LRCMT.Models.SentimentModel model, LRCMT.Data.MultimodalBatch input, bool classify)
    {
        var output = model.call(input);
        return (classify ? output.argmax(1) : output.reshape(-1)).to(torch.ScalarType.Float32).cpu().data<float>().ToArray();
    }

    private static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    // RFC 4180: quote fields holding a comma, quote or line break (MMSA ids are "video$_$clip").
    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : $"\"{field.Replace("\"", "\"\"")}\"";
}
