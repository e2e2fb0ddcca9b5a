using System.Globalization;
using System.Text;
using System.Text.Json;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Reporting;

namespace LRCMT.Cli.Runs;

/// <summary>ablation.json (one row per variant: name, trainable share, metrics) and ablation.md (the same as a table).</summary>
internal static class AblationReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    internal static void SaveJson(string path, IReadOnlyList<AblationRow> rows) =>
        File.WriteAllText(path, JsonSerializer.Serialize(
            rows.Select(r => new { name = r.Name, trainable_share = r.TrainableShare, metrics = r.Metrics }), Json));

    /// <summary>A Markdown table; accuracies/F1 in percent, MAE and Corr as they are, trainable share in percent.</summary>
    internal static void SaveMarkdown(string path, IReadOnlyList<AblationRow> rows, IReadOnlyList<string> metricNames, string caption)
    {
        var text = new StringBuilder();
        text.AppendLine(caption).AppendLine();
        text.Append("| Variant | Trainable | ").AppendJoin(" | ", metricNames).AppendLine(" |");
        text.Append("|---|---:|").AppendJoin("", metricNames.Select(_ => "---:|")).AppendLine();
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {100 * row.TrainableShare:F2}% | ")
                .AppendJoin(" | ", metricNames.Select(m => ConsoleReport.Format(m, row.Metrics[m])))
                .AppendLine(" |");
        }
        File.WriteAllText(path, text.ToString());
    }
}
