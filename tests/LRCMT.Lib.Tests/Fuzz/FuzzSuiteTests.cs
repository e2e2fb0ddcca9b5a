using System.Globalization;
using System.Text;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Data.Mmsa;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Tests.LowRank;
using LRCMT.Tests.Training;
using LRCMT.TextEncoders;
using LRCMT.Training;
using Xunit;
using LRCMT.Formats.Pickle;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Feeds every public loader damaged and hostile files and asserts typed-or-correct: each case either loads or throws
/// an <see cref="LrcmtException"/> (never a NullReference, IndexOutOfRange, libtorch or other untyped exception, and
/// never a dead process). CI runs a fixed-seed sample; <c>LRCMT_FUZZ_CASES=20000</c> runs more (split over the
/// loaders), <c>LRCMT_FUZZ_SEED</c> picks another sample, and <c>LRCMT_FUZZ_REPORT=file</c> appends the counts.
/// See docs/reliability.md.
/// </summary>
public sealed class FuzzSuiteTests : IDisposable
{
    private const int Targets = 8;
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int CasesPerTarget =>
        Math.Max(1, (int.TryParse(Environment.GetEnvironmentVariable("LRCMT_FUZZ_CASES"), out int total) && total > 0 ? total : 400) / Targets);

    private static int Seed(string target) =>
        (int.TryParse(Environment.GetEnvironmentVariable("LRCMT_FUZZ_SEED"), out int seed) ? seed : 12) * 7919 + target.Length * 31 + target[0];

    private sealed record Counts(string Target, int Cases, int Typed, int Loaded, List<string> Failures);

    /// <summary>Runs <paramref name="load"/> on each case; an exception that is not an LrcmtException is a failure.</summary>
    private Counts Run(string target, Func<Random, (byte[] Bytes, string How)> make, Action<byte[], string> load)
    {
        var random = new Random(Seed(target));
        int typed = 0, loaded = 0, cases = CasesPerTarget;
        var failures = new List<string>();
        for (int i = 0; i < cases; i++)
        {
            var (bytes, how) = make(random);
            string caseFolder = Path.Combine(_folder, $"{target}-{i}");
            Directory.CreateDirectory(caseFolder);
            try
            {
                load(bytes, caseFolder);
                loaded++;
            }
            catch (LrcmtException)
            {
                typed++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({how}): {e.GetType().Name}: {e.Message} {string.Join(" | ", (e.StackTrace ?? "").Split('\n').Take(4))}");
            }
            finally
            {
                Directory.Delete(caseFolder, recursive: true);
            }
        }
        var counts = new Counts(target, cases, typed, loaded, failures);
        Report(counts);
        return counts;
    }

    private static void Report(Counts c)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"fuzz {c.Target}: {c.Cases} cases, {c.Typed} typed errors, {c.Loaded} loaded, {c.Failures.Count} untyped");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("LRCMT_FUZZ_REPORT") is { Length: > 0 } file) File.AppendAllText(file, line + Environment.NewLine);
    }

    private static void ShouldAllBeTyped(Counts counts)
    {
        counts.Failures.Should().BeEmpty($"every damaged {counts.Target} file must load or fail with an LrcmtException");
        (counts.Typed + counts.Loaded).Should().Be(counts.Cases);
        counts.Typed.Should().BeGreaterThan(0, "the generators must actually damage files");
    }

    private static Func<Random, (byte[], string)> Damaged(byte[] seed) => random => Mutator.Mutate(seed, random);

    [Fact]
    public void Safetensors_files()
    {
        var seed = FuzzSeeds.Safetensors(_folder);
        ShouldAllBeTyped(Run("safetensors", Damaged(seed), (bytes, folder) =>
        {
            string path = Path.Combine(folder, "x.safetensors");
            File.WriteAllBytes(path, bytes);
            foreach (var t in SafetensorsFile.Load(path).Values) t.Dispose();
        }));
    }

    [Fact]
    public void Onnx_models()
    {
        var seed = FuzzSeeds.Onnx();
        using (OnnxBertImporter.Load(new MemoryStream(seed), "seed.onnx")) { } // the seed itself imports
        ShouldAllBeTyped(Run("onnx", Damaged(seed), (bytes, _) =>
        {
            using var model = OnnxBertImporter.Load(new MemoryStream(bytes), "fuzz.onnx");
        }));
    }

    [Fact]
    public void Pickles_damaged_and_hostile()
    {
        var seed = MmsaPickleGenerator.Write();
        ShouldAllBeTyped(Run("pickle", random => random.Next(2) == 0 ? Mutator.Mutate(seed, random) : HostilePickleGenerator.Generate(random),
            (bytes, _) => SafePickle.Load(bytes, "fuzz.pkl")));
    }

    [Fact]
    public void Mmsa_feature_files()
    {
        var seed = MmsaPickleGenerator.Write();
        ShouldAllBeTyped(Run("mmsa", Damaged(seed), (bytes, folder) =>
        {
            string path = Path.Combine(folder, "x.pkl");
            File.WriteAllBytes(path, bytes);
            MmsaFeatureFile.Load(path);
        }));
    }

    [Fact]
    public void Bert_configs()
    {
        var seed = FuzzSeeds.BertConfigJson();
        ShouldAllBeTyped(Run("bert-config", Damaged(seed), (bytes, _) => BertConfig.FromJson(FuzzSeeds.Text(bytes), "fuzz/config.json")));
    }

    [Fact]
    public void Vocabularies_against_their_config()
    {
        var seed = FuzzSeeds.Vocabulary();
        var config = BertConfig.FromJson(FuzzSeeds.Text(FuzzSeeds.BertConfigJson()));
        ShouldAllBeTyped(Run("vocab", Damaged(seed), (bytes, _) =>
        {
            var tokenizer = BertTextTokenizer.FromVocabStream(new MemoryStream(bytes));
            tokenizer.RequireMatches(config, "fuzz");
            tokenizer.EncodeBatch(["hello world", "the cat"], 8).InputIds.Dispose();
        }));
    }

    [Fact]
    public void Peft_adapters()
    {
        var config = FuzzSeeds.AdapterConfig();
        var weights = FuzzSeeds.AdapterWeights();
        ShouldAllBeTyped(Run("peft", random =>
        {
            bool damageConfig = random.Next(2) == 0;
            var (bytes, how) = Mutator.Mutate(damageConfig ? config : weights, random);
            // One byte records which file is damaged; the other is the intact fixture.
            return ([(byte)(damageConfig ? 1 : 0), .. bytes], (damageConfig ? "config: " : "weights: ") + how);
        }, (bytes, folder) =>
        {
            bool damageConfig = bytes[0] == 1;
            File.WriteAllBytes(Path.Combine(folder, PeftAdapterFile.ConfigFileName), damageConfig ? bytes[1..] : config);
            File.WriteAllBytes(Path.Combine(folder, PeftAdapterFile.WeightsFileName), damageConfig ? weights : bytes[1..]);
            using var model = new ToyBert(64);
            PeftAdapterFile.Load(model, folder);
        }));
    }

    [Fact]
    public void Trainer_checkpoints()
    {
        string seedFolder = Path.Combine(_folder, "seed-run");
        var seed = FuzzSeeds.TrainerCheckpoint(seedFolder);
        var best = File.ReadAllBytes(Path.Combine(seedFolder, Trainer.BestCheckpointName));
        var (train, valid) = FuzzSeeds.Loaders();
        ShouldAllBeTyped(Run("trainer-checkpoint", Damaged(seed), (bytes, folder) =>
        {
            File.WriteAllBytes(Path.Combine(folder, Trainer.LastCheckpointName), bytes);
            File.WriteAllBytes(Path.Combine(folder, Trainer.BestCheckpointName), best);
            using var model = new TinyRegressor(3, 2, seed: 3);
            new Trainer(FuzzSeeds.CheckpointOptions(folder)).Resume(model, train, valid, Path.Combine(folder, Trainer.LastCheckpointName));
        }));
    }
}
