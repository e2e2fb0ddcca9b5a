using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Experiments;
using LRCMT.Cli.Settings;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

// Multi-seed train and ablate end to end on the tiny-bert fixture (a few dozen generated samples, 2 epochs per run).
public class SeedRunsTests
{
    private static Dictionary<string, double> TestMetrics(string runFolder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(runFolder, "metrics.json")));
        return json.RootElement.GetProperty("test").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
    }

    private static double Csv(string[] lines, string model, string seed, string metric)
    {
        var header = lines[0].Split(',');
        var row = lines.Single(l => l.StartsWith($"{model},{seed},", StringComparison.Ordinal)).Split(',');
        return double.Parse(row[Array.IndexOf(header, metric)], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Two_seed_ablation_writes_per_seed_runs_aggregates_paired_comparisons_and_the_encoder_rate_grid()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("ablation");

        var result = await CliHarness.RunAsync("ablate", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--seeds", "2", "--variant", "Lrcmt", "TextOnly", "FullFineTuning", "--ft-encoder-lrs", "1e-5", "1e-4", "--output", output);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        foreach (var run in new[] { "Lrcmt/seed-1", "Lrcmt/seed-2", "TextOnly/seed-2", "FullFineTuning/encoder-lr-1e-5/seed-1", "FullFineTuning/encoder-lr-1e-4/seed-2" })
            File.Exists(Path.Combine(output, run, "metrics.json")).Should().BeTrue(run);

        // Each seed is its own run: the seed reaches data, initialisation and config.json's environment record.
        var lrcmt1 = TestMetrics(Path.Combine(output, "Lrcmt/seed-1"));
        var lrcmt2 = TestMetrics(Path.Combine(output, "Lrcmt/seed-2"));
        var text2 = TestMetrics(Path.Combine(output, "TextOnly/seed-2"));
        lrcmt1["MAE"].Should().NotBe(lrcmt2["MAE"]);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "Lrcmt/seed-2/config.json"))))
        {
            var environment = config.RootElement.GetProperty("Environment");
            environment.GetProperty("Seed").GetInt64().Should().Be(2);
            environment.GetProperty("LibTorchVersion").GetString().Should().NotBeNullOrEmpty();
            environment.GetProperty("Threads").GetInt32().Should().BeGreaterThan(0);
            environment.GetProperty("CpuCapabilityInferred").GetString().Should().NotBeNullOrEmpty();
        }
        RunSettingsFile.Load(Path.Combine(output, "Lrcmt/seed-2/config.json")).Training.Seed.Should().Be(2, "a run's config.json stays a valid settings file");

        // results.csv agrees with the run folders; its mean row is the mean of the seed rows.
        var lines = File.ReadAllLines(Path.Combine(output, "results.csv"));
        Csv(lines, "Lrcmt", "2", "Has0_acc_2").Should().Be(lrcmt2["Has0_acc_2"]);
        Csv(lines, "Lrcmt", "mean", "MAE").Should().BeApproximately((lrcmt1["MAE"] + lrcmt2["MAE"]) / 2, 1e-12);
        Csv(lines, "Lrcmt", "max", "MAE").Should().Be(Math.Max(lrcmt1["MAE"], lrcmt2["MAE"]));
        lines.Count(l => l.StartsWith("FullFineTuning,", StringComparison.Ordinal)).Should().Be(2 + 4, "only the chosen rate's runs are the variant's rows");

        using var ablation = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "ablation.json")));
        var comparisons = ablation.RootElement.GetProperty("comparisons").EnumerateArray().ToList();
        comparisons.Should().HaveCount(2 * AblationRun.Columns.Length);
        var versusText = comparisons.Single(c => c.GetProperty("baseline").GetString() == "TextOnly" && c.GetProperty("metric").GetString() == "MAE");
        versusText.GetProperty("differences")[1].GetDouble().Should().BeApproximately(lrcmt2["MAE"] - text2["MAE"], 1e-12);
        versusText.GetProperty("t_interval").ValueKind.Should().Be(JsonValueKind.Object);
        versusText.GetProperty("bootstrap_interval").ValueKind.Should().Be(JsonValueKind.Object, "the runs kept their test predictions");
        var grid = ablation.RootElement.GetProperty("full_fine_tuning_encoder_learning_rate");
        grid.GetProperty("grid").GetArrayLength().Should().Be(2);
        new[] { 1e-5, 1e-4 }.Should().Contain(grid.GetProperty("chosen").GetDouble());

        File.ReadAllText(Path.Combine(output, "ablation.md")).Should().Contain("## Paired comparisons").And.Contain("Has0_acc_2 (%)")
            .And.Contain("encoder learning rate chosen on the validation split");
    }

    [Fact]
    public async Task Train_with_a_seed_list_writes_one_folder_per_seed_and_results_csv()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("runs");

        var result = await CliHarness.RunAsync("train", "-c", TrainAndEvalTests.WriteSettings(temp), "--encoder", Fixtures.TinyBertFolder,
            "--seeds", "1,3", "--output", output);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Error);
        var seed3 = TestMetrics(Path.Combine(output, "seed-3"));
        var lines = File.ReadAllLines(Path.Combine(output, "results.csv"));
        lines.Select(l => l.Split(',')[1]).Skip(1).Should().Equal("1", "3", "mean", "std", "min", "max");
        Csv(lines, "Lrcmt", "3", "Has0_acc_2").Should().Be(seed3["Has0_acc_2"]);
        result.Output.Should().Contain("Has0_acc_2 (%)");
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "seed-1", "metrics.json")));
        metrics.RootElement.GetProperty("history")[0].GetProperty("epoch").GetInt32().Should().Be(1, "epochs are numbered from 1 everywhere");
    }

    [Theory]
    [InlineData("--seeds", "0")]
    [InlineData("--seeds", "1,x")]
    [InlineData("--seeds", "2", "--seed", "4")]
    public async Task Bad_seed_options_are_usage_errors(params string[] args)
    {
        var result = await CliHarness.RunAsync(["train", "--encoder", Fixtures.TinyBertFolder, .. args]);

        result.ExitCode.Should().Be(ExitCodes.UsageError, result.Output + result.Error);
        result.Error.Should().Contain("seed");
    }

    [Theory]
    [InlineData(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq" }, null, "avx512")]
    [InlineData(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq" }, "avx2", "avx2")]
    [InlineData(new[] { "avx2", "fma" }, "AVX512", "avx2")]
    [InlineData(new[] { "avx", "sse4_2" }, null, "default")]
    public void The_kernel_level_is_the_cpus_best_capped_by_aten_cpu_capability(string[] flags, string? requested, string expected)
    {
        RunEnvironment.InferCapability(flags, requested).Should().Be(expected);
    }
}
