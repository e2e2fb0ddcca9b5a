using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Formats.Pickle;
using LRCMT.Formats.Safetensors;
using LRCMT.IO;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.LowRank;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// One test per input class of issue 27, each from its own generator (field-level lies, not byte damage: that is
/// <see cref="FuzzSuiteTests"/>) plus the file kinds no loader may block on or read without end
/// (<see cref="HostileFileKinds"/>). Every case loads or throws an <see cref="LrcmtException"/> within 10 s, allocating at
/// most 64 MiB of managed memory (<see cref="HostileHarness"/>). Contents of tokenizer.json are
/// <see cref="HostileTokenizerTests"/>'; pickle programs are <see cref="HostilePickleTests"/>'.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-hostile-input-").FullName;

    public void Dispose() => HostileFileKinds.Remove(_folder);

    private static IEnumerable<HostileCase> Generated(int salt, Func<Random, (byte[] Bytes, string How)> generate)
    {
        var random = new Random(HostileHarness.Seed(salt));
        for (var i = 0; i < HostileHarness.Cases; i++)
        {
            var (bytes, how) = generate(random);
            yield return new HostileCase(how, path => File.WriteAllBytes(path, bytes));
        }
    }

    private void ShouldHold(string name, IEnumerable<HostileCase> cases, Action<string> load, bool someMustLoad = false)
    {
        var (failures, refused, loaded) = HostileHarness.Run(_folder, name, cases, load, e => e is LrcmtException);
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: {refused} refused, {loaded} loaded, {failures.Count} failures");
        string.Join(Environment.NewLine, failures).Should().BeEmpty($"every hostile {name} must load or be an LrcmtException within {HostileHarness.HangLimit.TotalSeconds} s");
        refused.Should().BeGreaterThan(0, "the generators must produce inputs that are refused");
        if (someMustLoad) loaded.Should().BeGreaterThan(0, "some lies are harmless (a field the reader ignores), so the loader is really reached");
    }

    [Fact]
    public void Safetensors_headers_that_lie()
    {
        ShouldHold("x.safetensors", [.. HostileFileKinds.All(null), .. Generated(1, HostileSafetensorsGenerator.Generate)], path =>
        {
            foreach (var tensor in SafetensorsFile.Load(path).Values) tensor.Dispose();
        });
    }

    [Fact]
    public void Torch_checkpoints_taken_apart()
    {
        ShouldHold("pytorch_model.bin", [.. HostileFileKinds.All(null), .. Generated(2, HostileTorchCheckpointGenerator.Generate)], path =>
        {
            foreach (var tensor in TorchCheckpointFile.Load(path).Values) tensor.Dispose();
        }, someMustLoad: true);
    }

    [Fact]
    public void Peft_adapter_configs_with_nulls_bad_regexes_and_unsupported_flags()
    {
        var seed = File.ReadAllBytes(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.ConfigFileName));
        string[] flags = ["use_dora", "fan_in_fan_out", "use_rslora", "layers_pattern", "layers_to_transform", "modules_to_save", "rank_pattern", "alpha_pattern", "bias", "init_lora_weights"];
        var cases = HostileFileKinds.All(InputFile.Limit(InputKind.AdapterConfig)).Concat(Generated(3, random => HostileJson.Generate(seed, random, flags)));
        ShouldHold(PeftAdapterFile.ConfigFileName, cases, path =>
        {
            string folder = Path.GetDirectoryName(path)!;
            File.Copy(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.WeightsFileName), Path.Combine(folder, PeftAdapterFile.WeightsFileName));
            using var model = new ToyBert(64);
            PeftAdapterFile.Load(model, folder);
        }, someMustLoad: true);
    }

    [Fact]
    public void Bert_configs_with_lies_of_size_type_and_unsupported_flags()
    {
        var seed = File.ReadAllBytes(Path.Combine(Fixtures.TinyBertFolder, "config.json"));
        string[] flags = ["is_decoder", "add_cross_attention", "is_encoder_decoder", "pruned_heads", "position_embedding_type", "hidden_act", "model_type", "torch_dtype"];
        var cases = HostileFileKinds.All(InputFile.Limit(InputKind.ModelConfig)).Concat(Generated(4, random => HostileJson.Generate(seed, random, flags)));
        // The whole folder loads: a config that claims a model far larger than the weights file must be refused before
        // that model is allocated.
        ShouldHold("config.json", cases, path =>
        {
            string folder = Path.GetDirectoryName(path)!;
            foreach (var file in new[] { "vocab.txt", "model.safetensors" })
                File.Copy(Path.Combine(Fixtures.TinyBertFolder, file), Path.Combine(folder, file));
            using var model = BertModel.FromPretrained(folder);
        }, someMustLoad: true);
    }

    [Fact]
    public void Tokenizer_json_that_is_not_a_regular_file()
    {
        ShouldHold("tokenizer.json", HostileFileKinds.All(InputFile.Limit(InputKind.TokenizerJson)), path => BertTextTokenizer.FromTokenizerJson(path));
    }

    [Fact]
    public void Onnx_exports_with_lying_heads_dtypes_and_dimensions()
    {
        ShouldHold("model.onnx", [.. HostileFileKinds.All(InputFile.Limit(InputKind.Onnx)), .. Generated(6, HostileOnnxGenerator.Generate)], path =>
        {
            using var model = OnnxBertImporter.Load(path);
        });
    }

    [Fact]
    public void Saved_model_folders_attacked_as_a_unit()
    {
        string seed = Path.Combine(_folder, "seed"), other = Path.Combine(_folder, "other");
        List<(string, long[])> frozen;
        using (var model = new LrcmtBuilder().WithPretrainedEncoder(Fixtures.TinyBertFolder).WithLoRA(l => l with { Rank = 2 }).Build())
        {
            model.Save(seed);
            var weights = SafetensorsFile.Load(Path.Combine(seed, "model.safetensors"));
            var saved = weights.Keys.ToHashSet();
            foreach (var t in weights.Values) t.Dispose();
            frozen = [.. model.named_parameters().Where(p => !p.parameter.requires_grad && !saved.Contains(p.name)).Select(p => (p.name, p.parameter.shape))];
        }

        using (var model = new LrcmtBuilder().WithPretrainedEncoder(Fixtures.TinyBertFolder).WithLoRA(l => l with { Rank = 2 }).Build())
            model.Save(other);
        frozen.Should().NotBeEmpty();

        var random = new Random(HostileHarness.Seed(7));
        var cases = Enumerable.Range(0, HostileHarness.Cases).Select(_ => HostileModelFolderGenerator.Generate(seed, other, frozen, random)).ToList();
        ShouldHold("model", cases, folder =>
        {
            using var model = LRCMTModel.Load(folder);
        });
    }
}
