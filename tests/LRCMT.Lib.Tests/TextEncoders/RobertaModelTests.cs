using LRCMT.Interop;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// RoBERTa against a reference forward written in plain torch from the architecture (Fixtures/roberta/make-roberta.py:
/// a random 2-layer model, Hugging Face parameter names, padded rows so position numbering matters).
/// </summary>
public sealed class RobertaModelTests : IDisposable
{
    private static readonly string Folder = Fixtures.File("roberta");
    private readonly Dictionary<string, Tensor> io = SafetensorsFile.Load(Path.Combine(Folder, "roberta-io.safetensors"));

    [Fact]
    public void Forward_matches_the_reference_within_1e_5()
    {
        using var model = RobertaModel.FromPretrained(Folder);
        using var _ = no_grad();

        var output = model.call(io["input_ids"], io["attention_mask"], null);

        var hiddenError = TinyBertParityTests.MaxAbsDifference(output.LastHiddenState, io["last_hidden_state"]);
        var poolerError = TinyBertParityTests.MaxAbsDifference(output.PooledOutput!, io["pooler_output"]);
        TestContext.Current.TestOutputHelper?.WriteLine($"max |h - h_ref| = {hiddenError:E2}, max |p - p_ref| = {poolerError:E2}");

        hiddenError.Should().BeLessThan(1e-5);
        poolerError.Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Parameter_names_and_shapes_are_those_of_the_hugging_face_checkpoint()
    {
        using var model = RobertaModel.FromPretrained(Folder);
        using var file = JsonDocument.Parse(ReadHeaderJson(Path.Combine(Folder, "model.safetensors")));
        var expected = file.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());

        var actual = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        actual.Keys.Should().BeEquivalentTo(expected.Keys);
        foreach (var (name, shape) in expected) actual[name].Should().Equal(shape, name);
    }

    [Fact]
    public void Roberta_base_has_the_parameter_count_of_hugging_face_RobertaModel()
    {
        // Embeddings 50265x768 + 514x768 + 1x768 + LayerNorm, 12 layers of 7,087,872, pooler 590,592: 124,645,632,
        // what transformers reports for RobertaModel.from_pretrained("roberta-base").num_parameters().
        torch.set_default_device(torch.META);
        try
        {
            using var model = new RobertaModel(RobertaConfig.Base());
            model.parameters().Sum(p => p.numel()).Should().Be(124_645_632);
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
    }

    [Fact]
    public void A_task_checkpoint_under_roberta_prefix_loads_and_skips_its_head()
    {
        var folder = Directory.CreateTempSubdirectory("roberta-task-").FullName;
        try
        {
            File.Copy(Path.Combine(Folder, "config.json"), Path.Combine(folder, "config.json"));
            var weights = SafetensorsFile.Load(Path.Combine(Folder, "model.safetensors"));
            var prefixed = weights.ToDictionary(kv => "roberta." + kv.Key, kv => kv.Value);
            prefixed["lm_head.dense.weight"] = zeros(32, 32);
            prefixed["roberta.embeddings.position_ids"] = RootedScalars.Arange(40, ScalarType.Int64, CPU).unsqueeze(0); // arange(40) passes unrooted Scalars
            SafetensorsFile.Save(Path.Combine(folder, "model.safetensors"), prefixed);

            using var model = RobertaModel.FromPretrained(folder);
            using var _ = no_grad();
            var output = model.call(io["input_ids"], io["attention_mask"], null);

            TinyBertParityTests.MaxAbsDifference(output.LastHiddenState, io["last_hidden_state"]).Should().BeLessThan(1e-5);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void LoRA_targets_query_and_value_as_for_bert_and_starts_as_the_base_model()
    {
        using var model = RobertaModel.FromPretrained(Folder);
        using var _ = no_grad();

        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query", "value"] });
        var output = model.call(io["input_ids"], io["attention_mask"], null);

        report.MatchedModules.Should().BeEquivalentTo(
            "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
            "encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value");
        model.named_parameters().Where(p => p.parameter.requires_grad).Should().OnlyContain(p => p.name.Contains("lora_"));
        TinyBertParityTests.MaxAbsDifference(output.LastHiddenState, io["last_hidden_state"]).Should().BeLessThan(1e-5, "B starts at zero");
    }

    [Fact]
    public void Sequences_longer_than_the_position_table_allows_are_refused()
    {
        using var model = RobertaModel.FromPretrained(Folder);
        // 40 positions, numbered from pad_token_id + 1 = 2: at most 38 tokens.
        using var ids = ones(1, 39, dtype: ScalarType.Int64);

        var act = () => model.call(ids, ones_like(ids), null);

        act.Should().Throw<ShapeMismatchException>().WithMessage("*1..38*");
    }

    [Fact]
    public void A_bert_config_is_not_read_as_roberta()
    {
        var act = () => RobertaConfig.FromJson("""{"model_type": "bert", "hidden_size": 32}""", "x/config.json");

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*model_type*bert*");
    }

    public void Dispose()
    {
        foreach (var tensor in io.Values) tensor.Dispose();
    }

    private static string ReadHeaderJson(string path)
    {
        using var stream = File.OpenRead(path);
        var length = new byte[8];
        stream.ReadExactly(length);
        var header = new byte[BitConverter.ToInt64(length)];
        stream.ReadExactly(header);
        return System.Text.Encoding.UTF8.GetString(header);
    }
}
