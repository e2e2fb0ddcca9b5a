using System.Globalization;
using System.Text;
using LRCMT.Errors;
using LRCMT.Experiments;

namespace LRCMT.Cli.Runs;

/// <summary>
/// test-predictions.csv: a <c>prediction,truth</c> header, then one row per test sample in the data's order, both as
/// float32 written to round-trip exactly, so the paired bootstrap of a merged ablation sees what the run saw.
/// </summary>
internal static class PredictionsFile
{
    private const string Header = "prediction,truth";

    internal static void Save(string path, SamplePredictions predictions)
    {
        var text = new StringBuilder(Header).Append('\n');
        for (int i = 0; i < predictions.Count; i++)
            text.Append(Text(predictions.Predictions[i])).Append(',').Append(Text(predictions.Truths[i])).Append('\n');
        // Atomically, as metrics.json: a run killed mid-write keeps no half file.
        IO.OutputFile.Write(path, () => AtomicFile.WriteAllText(path, text.ToString()));
    }

    /// <summary>Reads what <see cref="Save"/> wrote (through the bounded reader of run records).</summary>
    /// <exception cref="CliException">The file cannot be read or a row is not two finite numbers (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static SamplePredictions Read(string path)
    {
        try
        {
            var lines = IO.InputFile.ReadAllText(path, IO.InputKind.RunSettings).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length == 0 || lines[0].TrimEnd('\r') != Header)
                throw new FormatException($"expected the header '{Header}', got '{(lines.Length == 0 ? "" : lines[0])}'.");
            var predictions = new float[lines.Length - 1];
            var truths = new float[lines.Length - 1];
            for (int i = 1; i < lines.Length; i++)
            {
                var cells = lines[i].TrimEnd('\r').Split(',');
                if (cells.Length != 2 || !TryParse(cells[0], out predictions[i - 1]) || !TryParse(cells[1], out truths[i - 1]))
                    throw new FormatException($"line {i + 1} is not two numbers: '{lines[i]}'.");
            }
            return new SamplePredictions(predictions, truths);
        }
        catch (Exception e) when (e is FormatException or LrcmtException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.RunError, $"The test predictions '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static bool TryParse(string text, out float value) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
