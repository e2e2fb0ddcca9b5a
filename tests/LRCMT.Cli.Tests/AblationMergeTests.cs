using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Experiments.Reports;
using LRCMT.Data;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>
/// Three tiny ablations with the same settings and seeds (one libtorch thread, so repeated runs are bit-identical):
/// "all" with every variant in one process, and the two halves "a" and "b" that scripts/ablation-baselines.sh runs side
/// by side, LRCMT in both.
/// </summary>
public sealed class AblationHalvesFixture : IDisposable
{
    private readonly TempFolder _temp = new();
    private Task<string>? _ready;

    internal string Folder(string name) => _temp.Combine(name);

    internal TempFolder Temp => _temp;

    internal Task<string> ReadyAsync() => _ready ??= RunAllAsync();

    private async Task<string> RunAllAsync()
    {
        string settings = TrainAndEvalTests.WriteSettings(_temp);
        // "s1" and "s2": full fine-tuning's two seeds in separate processes, as a crashed or split run leaves them.
        foreach (var (name, seeds, variants) in new[] { ("all", "2", new[] { "Lrcmt", "TextOnly", "FullFineTuning" }), ("a", "2", ["Lrcmt", "TextOnly"]),
                     ("b", "2", ["Lrcmt", "FullFineTuning"]), ("s1", "1", ["FullFineTuning"]), ("s2", "2,", ["FullFineTuning"]) })
        {
            var result = await CliHarness.RunAsync(CancellationToken.None, ["ablate", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--epochs", "1",
                "--threads", "1", "--seeds", seeds, "--ft-encoder-lrs", "1e-4", "--missing-rates", "0,0.5", "--variant", .. variants, "--output", Folder(name)]);
            result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        }
        return _temp.Path;
    }

    public void Dispose() => _temp.Dispose();
}

public class AblationMergeTests(AblationHalvesFixture halves) : IClassFixture<AblationHalvesFixture>
{
    [Fact]
    public async Task Merging_the_two_halves_gives_the_single_ablations_report_and_leaves_the_halves_untouched()
    {
        await halves.ReadyAsync();
        string a = halves.Folder("a"), b = halves.Folder("b"), all = halves.Folder("all");
        var before = Hashes(a).Concat(Hashes(b)).ToList();
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", a, b, "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        result.Output.Should().NotContain("Warning", "LRCMT's runs in both halves are bit-identical");
        Hashes(a).Concat(Hashes(b)).Should().Equal(before, "nothing in the source folders changes");
        Directory.GetFiles(merged).Select(Path.GetFileName).Should().BeEquivalentTo(Directory.GetFiles(all).Select(Path.GetFileName),
            "a merge writes the files an ablation writes, robustness plots included");
        Directory.GetDirectories(merged).Should().BeEmpty("the runs are referenced where they are, never copied");

        // The same numbers as one ablation with every variant: aggregates, comparisons (both intervals) and robustness.
        File.ReadAllText(Path.Combine(merged, "results.csv")).Should().Be(File.ReadAllText(Path.Combine(all, "results.csv")));
        File.ReadAllText(Path.Combine(merged, "robustness.csv")).Should().Be(File.ReadAllText(Path.Combine(all, "robustness.csv")));
        File.ReadAllText(Path.Combine(merged, "robustness.md")).Should().Be(File.ReadAllText(Path.Combine(all, "robustness.md")));
        var comparisons = Comparisons(merged);
        comparisons.Select(c => c["baseline"]!.GetValue<string>()).Distinct().Should().Equal("TextOnly", "FullFineTuning");
        comparisons.Should().AllSatisfy(c => c["bootstrap_interval"].Should().NotBeNull("the runs kept their test predictions"));
        JsonSerializer.Serialize(comparisons).Should().Be(JsonSerializer.Serialize(Comparisons(all)));
        string sources = "Merged from `../a` (Lrcmt, TextOnly), `../b` (FullFineTuning): ablations run in separate processes, " +
                         "each variant's runs taken from the folder(s) naming it, where they stay (ablation.json names each run's folder relative to this one).";
        string mergedMd = File.ReadAllText(Path.Combine(merged, "ablation.md"));
        mergedMd.Should().Contain(sources);
        mergedMd.Replace(sources + Environment.NewLine + Environment.NewLine, "")
            .Should().Be(File.ReadAllText(Path.Combine(all, "ablation.md")), "only the paragraph naming the source folders is new");

        // Run folders are named relative to the merged folder, where they are.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "ablation.json")));
        json.RootElement.GetProperty("merged_from").EnumerateArray().Select(e => e.GetString()).Should().Equal("../a", "../b");
        foreach (var variant in json.RootElement.GetProperty("variants").EnumerateArray())
            foreach (var run in variant.GetProperty("runs").EnumerateArray())
                File.Exists(Path.Combine(merged, run.GetProperty("folder").GetString()!, "metrics.json")).Should().BeTrue(run.GetProperty("folder").GetString());
    }

    [Fact]
    public async Task A_folder_without_test_predictions_has_them_recomputed_from_the_saved_models()
    {
        await halves.ReadyAsync();
        string old = halves.Temp.Combine("b-old-" + Guid.NewGuid().ToString("N"));
        Copy(halves.Folder("b"), old);
        foreach (var file in Directory.GetFiles(old, "test-predictions.csv", SearchOption.AllDirectories)) File.Delete(file);
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("a"), old, "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        result.Output.Should().Contain("FullFineTuning, seed 2: no test-predictions.csv").And.NotContain("Warning");
        var recomputed = Comparisons(merged);
        var kept = Comparisons(halves.Folder("all"));
        recomputed.Should().HaveCount(kept.Count);
        for (int i = 0; i < kept.Count; i++)
            foreach (var bound in new[] { "lower", "upper" })
                recomputed[i]["bootstrap_interval"]![bound]!.GetValue<double>()
                    .Should().BeApproximately(kept[i]["bootstrap_interval"]![bound]!.GetValue<double>(), 1e-6, "the reloaded model predicts as trained");
    }

    [Fact]
    public async Task An_interrupted_folder_is_merged_with_the_seeds_it_finished()
    {
        await halves.ReadyAsync();
        // What Ctrl+C during seed 2 leaves: ablation.json lists the seed-1 runs and says interrupted.
        string interrupted = halves.Temp.Combine("b-interrupted-" + Guid.NewGuid().ToString("N"));
        Copy(halves.Folder("b"), interrupted);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(interrupted, "ablation.json")))!;
        record["interrupted"] = true;
        foreach (var variant in record["variants"]!.AsArray())
        {
            var runs = variant!["runs"]!.AsArray();
            foreach (var run in runs.Where(r => r!["seed"]!.GetValue<int>() == 2).ToList()) runs.Remove(run);
        }
        File.WriteAllText(Path.Combine(interrupted, "ablation.json"), record.ToJsonString());
        foreach (var seed2 in Directory.GetDirectories(interrupted, "seed-2", SearchOption.AllDirectories)) Directory.Delete(seed2, recursive: true);
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", interrupted, halves.Folder("a"), "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        var comparisons = Comparisons(merged);
        comparisons.Where(c => c["baseline"]!.GetValue<string>() == "FullFineTuning")
            .Should().NotBeEmpty().And.AllSatisfy(c => c["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).Should().Equal(1));
        comparisons.Where(c => c["baseline"]!.GetValue<string>() == "TextOnly")
            .Should().AllSatisfy(c => c["seeds"]!.AsArray().Select(s => s!.GetValue<int>()).Should().Equal([1, 2], "LRCMT comes from the folder that finished both seeds"));
        File.ReadAllText(Path.Combine(merged, "ablation.md")).Should().Contain("Interrupted: only the runs listed finished.");

        // The seed the interrupted folder lacks, run in a folder of its own: the merged report is complete again.
        string completed = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));
        var again = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("a"), interrupted, halves.Folder("s2"), "--output", completed);

        again.ExitCode.Should().Be(ExitCodes.Success, again.Output + again.Error);
        File.ReadAllText(Path.Combine(completed, "ablation.md")).Should().NotContain("Interrupted");
        File.ReadAllText(Path.Combine(completed, "results.csv")).Should().Be(File.ReadAllText(Path.Combine(halves.Folder("all"), "results.csv")));
    }

    [Fact]
    public async Task A_variant_whose_seeds_ran_in_separate_folders_is_merged_seed_by_seed_into_the_single_ablations_report()
    {
        await halves.ReadyAsync();
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("a"), halves.Folder("s2"), halves.Folder("s1"), "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        result.Output.Should().Contain("the folders ran different seeds").And.NotContain("Warning");
        string all = halves.Folder("all");
        File.ReadAllText(Path.Combine(merged, "results.csv")).Should().Be(File.ReadAllText(Path.Combine(all, "results.csv")));
        File.ReadAllText(Path.Combine(merged, "robustness.csv")).Should().Be(File.ReadAllText(Path.Combine(all, "robustness.csv")));
        JsonSerializer.Serialize(Comparisons(merged)).Should().Be(JsonSerializer.Serialize(Comparisons(all)), "full fine-tuning is paired on both seeds");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "ablation.json")));
        json.RootElement.GetProperty("seeds").EnumerateArray().Select(e => e.GetInt32()).Should().Equal(1, 2);
        var fullFineTuning = json.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "FullFineTuning");
        fullFineTuning.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("folder").GetString())
            .Should().Equal("../s1/FullFineTuning/seed-1", "../s2/FullFineTuning/seed-2");
        File.ReadAllText(Path.Combine(merged, "ablation.md")).Should().Contain("`../s2` (FullFineTuning), `../s1` (FullFineTuning)");
    }

    [Fact]
    public async Task Seeds_of_one_variant_that_ran_with_different_settings_are_refused()
    {
        await halves.ReadyAsync();
        // The ablations' own config.json agree; the second seed's full fine-tuning ran at another encoder learning rate.
        string other = halves.Temp.Combine("s2-rate-" + Guid.NewGuid().ToString("N"));
        Copy(halves.Folder("s2"), other);
        string run = Path.Combine(other, "FullFineTuning", "seed-2", "config.json");
        var config = JsonNode.Parse(File.ReadAllText(run))!;
        config["Training"]!["EncoderLearningRate"] = 3e-4;
        File.WriteAllText(run, config.ToJsonString());
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("s1"), other, "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.UsageError, result.Output);
        result.Error.Should().Contain("FullFineTuning's runs, Training.EncoderLearningRate: '").And.Contain("0.0003");
        Directory.Exists(merged).Should().BeFalse("a refused merge writes nothing");
    }

    [Fact]
    public async Task Folders_that_differ_in_more_than_their_variants_are_refused_with_each_difference()
    {
        await halves.ReadyAsync();
        string other = CopyOfHalfB("b-epochs-", config =>
        {
            config["Training"]!["Epochs"] = 3;
            config["Data"]!["BatchSize"] = 4;
        });
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("a"), other, "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.UsageError, result.Output);
        result.Error.Should().Contain("Training.Epochs: '").And.Contain("' has 1, '").And.Contain("' has 3")
            .And.Contain("Data.BatchSize: ");
        Directory.Exists(merged).Should().BeFalse("a refused merge writes nothing");
    }

    [Fact]
    public async Task Folders_that_differ_only_in_how_their_runs_executed_are_merged_with_a_note()
    {
        await halves.ReadyAsync();
        // Threads and the heap limit change speed and memory, not the experiment: e.g. one half run with
        // "LimitNativeHeapGrowth": false to train full fine-tuning faster.
        string other = CopyOfHalfB("b-heap-", config =>
        {
            config["Training"]!["LimitNativeHeapGrowth"] = false;
            config["Threads"] = 2;
        });
        string merged = halves.Temp.Combine("merged-" + Guid.NewGuid().ToString("N"));

        var result = await CliHarness.RunAsync("ablate", "--merge", halves.Folder("a"), other, "--output", merged);

        result.ExitCode.Should().Be(ExitCodes.Success, result.Output + result.Error);
        result.Output.Should().Contain("Training.LimitNativeHeapGrowth: '").And.Contain("Threads: '");
        Comparisons(merged).Select(c => c["baseline"]!.GetValue<string>()).Should().Contain(["TextOnly", "FullFineTuning"]);
    }

    [Fact]
    public async Task Merge_refuses_training_options_an_output_inside_a_source_and_a_folder_that_is_no_ablation()
    {
        await halves.ReadyAsync();
        string a = halves.Folder("a"), b = halves.Folder("b");

        var withEpochs = await CliHarness.RunAsync("ablate", "--merge", a, b, "--epochs", "3", "--output", halves.Temp.Combine("x"));
        var inside = await CliHarness.RunAsync("ablate", "--merge", a, b, "--output", Path.Combine(a, "merged"));
        var holding = await CliHarness.RunAsync("ablate", "--merge", a, b, "--output", halves.Temp.Path, "--force");
        var notAblation = await CliHarness.RunAsync("ablate", "--merge", a, Path.Combine(a, "Lrcmt", "seed-1"), "--output", halves.Temp.Combine("y"));

        withEpochs.ExitCode.Should().Be(ExitCodes.UsageError);
        withEpochs.Error.Should().Contain("--epochs");
        inside.ExitCode.Should().Be(ExitCodes.UsageError);
        inside.Error.Should().Contain("overlaps the ablation folder");
        holding.ExitCode.Should().Be(ExitCodes.UsageError, "--force would delete the source folders with the old output");
        Directory.Exists(a).Should().BeTrue();
        notAblation.ExitCode.Should().Be(ExitCodes.RunError);
        notAblation.Error.Should().Contain("ablation.json");
    }

    // A copy of half "b" whose config.json is edited as given (the source half stays as trained).
    private string CopyOfHalfB(string prefix, Action<JsonNode> edit)
    {
        string copy = halves.Temp.Combine(prefix + Guid.NewGuid().ToString("N"));
        Copy(halves.Folder("b"), copy);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(copy, "config.json")))!;
        edit(config);
        File.WriteAllText(Path.Combine(copy, "config.json"), config.ToJsonString());
        return copy;
    }

    [Fact]
    public void Robustness_csv_reads_back_as_written()
    {
        using var temp = new TempFolder();
        string[] columns = ["Has0_acc_2", "MAE"];
        var rows = new List<RobustnessResult>
        {
            new("Lrcmt", 1, new MissingModalities { Rate = 0.1, Seed = 7 }, new Dictionary<string, double> { ["Has0_acc_2"] = 0.1 + 0.2, ["MAE"] = 1.0 / 3 }),
            new("Tfn", 2, new MissingModalities { Rate = 0.7, Seed = 7 }, new Dictionary<string, double> { ["Has0_acc_2"] = 0.625, ["MAE"] = Math.PI }),
        };

        RobustnessReport.Save(temp.Path, rows, columns);
        var read = RobustnessReport.Read(temp.Path);

        read.Should().HaveCount(2);
        for (int i = 0; i < rows.Count; i++)
        {
            read[i].Variant.Should().Be(rows[i].Variant);
            read[i].Seed.Should().Be(rows[i].Seed);
            read[i].Missing.Should().Be(rows[i].Missing);
            read[i].Test.Should().Equal(rows[i].Test);
        }
        RobustnessReport.Read(Path.Combine(temp.Path, "none")).Should().BeEmpty("an ablation without --missing-rates has no table");
    }

    private static List<JsonNode> Comparisons(string folder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "ablation.json")))!["comparisons"]!.AsArray().Select(c => c!).ToList();

    private static IEnumerable<string> Hashes(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(folder, f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))} {File.GetLastWriteTimeUtc(f):O}")
            .Append($"directories {Directory.GetDirectories(folder, "*", SearchOption.AllDirectories).Length}");

    private static void Copy(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
