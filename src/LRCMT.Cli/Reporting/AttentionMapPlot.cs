using System.Globalization;
using ScottPlot;
using TorchSharp;

namespace LRCMT.Cli.Reporting;

/// <summary>
/// One attention map as a heatmap: rows are the attending (target) positions, columns the attended (source) ones,
/// cropped to the sample's real positions; the joint memory's columns are split into acoustic and visual frames. Text
/// positions are labelled with their tokens (WordPiece pieces as the model saw them, <c>[CLS]</c> and <c>[SEP]</c> included).
/// </summary>
internal static class AttentionMapPlot
{
    /// <summary>Real positions of a sample's text, acoustic and visual sequences.</summary>
    internal sealed record Lengths(int Text, int Acoustic, int Visual, int PaddedAcoustic);

    /// <param name="tokens">The sample's real tokens, in order, for the text axis.</param>
    internal static void Save(string path, torch.Tensor map, string encoder, Lengths lengths, string id, float prediction, float? label,
        IReadOnlyList<string> tokens)
    {
        var (rows, rowName) = Target(encoder, lengths, (int)map.shape[0]);
        var (columns, columnName, acousticColumns) = Source(encoder, lengths, (int)map.shape[1]);
        var all = map.data<float>().ToArray();
        int width = (int)map.shape[1];
        var values = new double[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                values[rows - 1 - r, c] = all[r * width + SourceIndex(c, acousticColumns, lengths)]; // row 0 of the array is drawn on top

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap).Label = "attention weight (heads averaged)";
        if (acousticColumns is { } split && split < columns)
        {
            var line = plot.Add.VerticalLine(split - 0.5);
            line.Color = Colors.White;
            line.LinePattern = LinePattern.Dashed;
        }
        string truth = label is { } l ? l.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
        plot.Title($"{id}: {encoder.Split('.').Last()} (prediction {prediction.ToString("0.00", CultureInfo.InvariantCulture)}, label {truth})");
        plot.XLabel(columnName);
        plot.YLabel(rowName);
        // Array row r is drawn at y = rows - 1 - r, column c at x = c (cells centred on whole numbers).
        if (IsText(Target(encoder))) plot.Axes.Left.TickGenerator = TokenTicks(tokens, rows, bottomUp: true);
        if (IsText(Source(encoder)))
        {
            plot.Axes.Bottom.TickGenerator = TokenTicks(tokens, columns, bottomUp: false);
            plot.Axes.Bottom.TickLabelStyle.Rotation = -60;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 90;
        }
        plot.SavePng(path, 900, Math.Clamp(200 + rows * 14, 360, 900));
    }

    private static bool IsText(string sequence) => sequence == "text";

    // The sequences an encoder's name says attend (target) and are attended (source): target_from_source.
    private static string Target(string encoder) => encoder.Split('.').Last().Split("_from_")[0];

    private static string Source(string encoder) => encoder.Split('.').Last().Split("_from_").Last();

    /// <summary>One tick per real token, labelled with its text; the first token at the top of a vertical axis.</summary>
    private static ScottPlot.TickGenerators.NumericManual TokenTicks(IReadOnlyList<string> tokens, int count, bool bottomUp)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < Math.Min(count, tokens.Count); i++) ticks.AddMajor(bottomUp ? count - 1 - i : i, tokens[i]);
        return ticks;
    }

    // Which sequence attends, by the encoder's name (LRCMT's and the ablations' field names: target_from_source).
    private static (int Rows, string Name) Target(string encoder, Lengths lengths, int available)
    {
        string target = Target(encoder);
        return target switch
        {
            "text" => (Math.Min(lengths.Text, available), "text token (attending)"),
            "acoustic" => (Math.Min(lengths.Acoustic, available), "acoustic frame (attending)"),
            "visual" => (Math.Min(lengths.Visual, available), "visual frame (attending)"),
            _ => (available, $"{target} position (attending)"),
        };
    }

    private static (int Columns, string Name, int? AcousticColumns) Source(string encoder, Lengths lengths, int available)
    {
        string source = Source(encoder);
        return source switch
        {
            "text" => (Math.Min(lengths.Text, available), "text token (attended)", null),
            "acoustic" => (Math.Min(lengths.Acoustic, available), "acoustic frame (attended)", null),
            "visual" => (Math.Min(lengths.Visual, available), "visual frame (attended)", null),
            "memory" => (lengths.Acoustic + lengths.Visual, "joint memory (attended): acoustic frames | visual frames", lengths.Acoustic),
            _ => (available, $"{source} position (attended)", null),
        };
    }

    // The memory is acoustic then visual, each padded to the batch's longest: skip the acoustic padding.
    private static int SourceIndex(int column, int? acousticColumns, Lengths lengths) =>
        acousticColumns is { } real && column >= real ? lengths.PaddedAcoustic + (column - real) : column;
}
