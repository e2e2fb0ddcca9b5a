using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli.Experiments.Reports;
using LRCMT.Experiments;
using Xunit;

namespace LRCMT.Tests.Cli;

public class ExperimentReportTests
{
    private static SeedRun Run(int seed, double acc, double mae) =>
        new(seed, new Dictionary<string, double> { ["Has0_acc_2"] = acc, ["MAE"] = mae },
            new Dictionary<string, double> { ["Has0_acc_2"] = acc - 0.01, ["MAE"] = mae });

    private static AblationSummary Summary()
    {
        var lrcmt = new VariantResult("Lrcmt", 0.0056, "Lrcmt", [Run(1, 0.80, 0.90), Run(2, 0.84, 0.94), Run(3, 0.82, 0.92)]);
        var text = new VariantResult("TextOnly", 0.0040, "TextOnly", [Run(1, 0.66, 1.40), Run(2, 0.67, 1.38), Run(3, 0.66, 1.41)]);
        var full = new VariantResult("FullFineTuning", 1.0, "FullFineTuning/encoder-lr-3e-05", [Run(1, 0.81, 0.95), Run(2, 0.80, 0.99), Run(3, 0.85, 0.90)]);
        var comparisons = PairedComparison.Compare("Lrcmt", lrcmt.Runs, "TextOnly", text.Runs, ["Has0_acc_2", "MAE"])
            .Concat(PairedComparison.Compare("Lrcmt", lrcmt.Runs, "FullFineTuning", full.Runs, ["Has0_acc_2", "MAE"])).ToList();
        var grid = new EncoderRateChoice("Has0_acc_2", [1e-5, 3e-5], [0.70, 0.81], [3, 3], 1);
        return new AblationSummary("the controlled benchmark", [1, 2, 3], 12, [lrcmt, text, full], comparisons, grid, Interrupted: false);
    }

    [Fact]
    public void Results_csv_has_one_row_per_variant_and_seed_then_mean_std_min_max_rows_in_fractions()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("results.csv");

        ResultsCsv.Save(path, Summary().Variants);

        var lines = File.ReadAllLines(path);
        lines[0].Should().Be("Model,Seed,Has0_acc_2,MAE");
        lines.Should().Contain("Lrcmt,2,0.84,0.94");
        lines.Should().HaveCount(1 + 3 * 3 + 3 * 4);
        var mean = lines.Single(l => l.StartsWith("Lrcmt,mean,", StringComparison.Ordinal)).Split(',');
        double.Parse(mean[2], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(0.82, 1e-12);
        var std = lines.Single(l => l.StartsWith("Lrcmt,std,", StringComparison.Ordinal)).Split(',');
        double.Parse(std[2], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(0.02, 1e-12); // deviations ±0.02, 0 → s = 0.02
        lines.Should().Contain(l => l.StartsWith("TextOnly,min,0.66,", StringComparison.Ordinal));
    }

    [Fact]
    public void Ablation_markdown_claims_only_what_the_t_interval_shows()
    {
        string markdown = AblationMarkdown.Render(Summary(), ["Has0_acc_2", "MAE"]);

        markdown.Should().Contain("| Lrcmt | 0.56% | 3 | 82.00 ± 2.00 (80.00–84.00) | 0.9200 ± 0.0200 (0.9000–0.9400) |");
        markdown.Should().Contain("**Lrcmt beats TextOnly** on Has0_acc_2 (%)");
        // Lrcmt − FullFineTuning: −0.01, +0.04, −0.03 → mixed signs, interval includes 0.
        markdown.Should().Contain("Lrcmt vs FullFineTuning on Has0_acc_2 (%): not shown at this budget");
        markdown.Should().Contain("better in 1 of 3 seeds");
        markdown.Should().Contain("Within ±1.5 points of full fine-tuning: not shown");
        markdown.Should().Contain("| 3e-5 | 81.00 | 3 | yes |");
        markdown.Should().Contain("| Lrcmt vs TextOnly | Has0_acc_2 (%) | +14.00, +17.00, +16.00 | +15.67 |");
    }

    [Fact]
    public void Ablation_json_holds_runs_aggregates_comparisons_and_the_grid_in_fractions()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("ablation.json");

        AblationJson.Save(path, Summary());

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        root.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("name").GetString()).Should().Equal("Lrcmt", "TextOnly", "FullFineTuning");
        var lrcmt = root.GetProperty("variants")[0];
        lrcmt.GetProperty("runs")[1].GetProperty("test").GetProperty("Has0_acc_2").GetDouble().Should().Be(0.84);
        lrcmt.GetProperty("runs")[1].GetProperty("folder").GetString().Should().Be("Lrcmt/seed-2");
        lrcmt.GetProperty("aggregate").GetProperty("Has0_acc_2").GetProperty("std").GetDouble().Should().BeApproximately(0.02, 1e-12);
        var first = root.GetProperty("comparisons")[0];
        first.GetProperty("baseline").GetString().Should().Be("TextOnly");
        first.GetProperty("conclusion").GetString().Should().Be("CandidateBetter");
        first.GetProperty("t_interval").GetProperty("lower").GetDouble().Should().BeGreaterThan(0);
        first.GetProperty("bootstrap_interval").ValueKind.Should().Be(JsonValueKind.Null);
        root.GetProperty("full_fine_tuning_encoder_learning_rate").GetProperty("chosen").GetDouble().Should().Be(3e-5);
    }

    [Theory]
    [InlineData("Has0_acc_2", 0.8125, "81.25", "Has0_acc_2 (%)")]
    [InlineData("Mult_acc_7", 0.5, "50.00", "Mult_acc_7 (%)")]
    [InlineData("MAE", 0.91234, "0.9123", "MAE")]
    [InlineData("Corr", 0.6491, "0.6491", "Corr")]
    public void People_see_accuracies_in_labelled_percent_and_errors_raw(string metric, double value, string shown, string label)
    {
        MetricUnits.Format(metric, value).Should().Be(shown);
        MetricUnits.Label(metric).Should().Be(label);
    }

    [Fact]
    public void Differences_are_signed_points_for_accuracies()
    {
        MetricUnits.FormatDifference("Has0_acc_2", 0.1475).Should().Be("+14.75");
        MetricUnits.FormatDifference("MAE", -0.1376).Should().Be("-0.1376");
    }
}
