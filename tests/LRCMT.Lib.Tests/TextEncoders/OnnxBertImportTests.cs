using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// The tiny-bert fixture written as torch's exporter lays out a BERT (named biases and LayerNorms, anonymous
/// transposed MatMul weights, a Gemm pooler), then imported and compared with Hugging Face's outputs.
/// </summary>
public sealed class OnnxBertImportTests : IDisposable
{
    private readonly Dictionary<string, Tensor> weights = SafetensorsFile.Load(Path.Combine(Fixtures.TinyBertFolder, "model.safetensors"));
    private readonly Dictionary<string, Tensor> io = SafetensorsFile.Load(Fixtures.TinyBertIo);
    private readonly BertConfig tinyConfig = BertConfig.FromFile(Path.Combine(Fixtures.TinyBertFolder, "config.json"));

    [Fact]
    public void An_exported_tiny_bert_imports_with_inferred_config_and_reproduces_hugging_face()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("lrcmt-onnx-").FullName, "tiny-bert.onnx");
        File.WriteAllBytes(path, TinyBertOnnx());
        using var model = OnnxBertImporter.Load(path);
        using var _ = no_grad();

        var output = model.call(io["input_ids"], io["attention_mask"], io["token_type_ids"]);

        model.Config.Should().BeEquivalentTo(tinyConfig with { HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.1 });
        TinyBertParityTests.MaxAbsDifference(output.LastHiddenState, io["base_last_hidden_state"]).Should().BeLessThan(1e-5);
        TinyBertParityTests.MaxAbsDifference(output.PooledOutput!, io["base_pooler_output"]).Should().BeLessThan(1e-5);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [Fact]
    public void Each_anonymous_weight_is_named_by_the_bias_its_add_uses_and_transposed_back()
    {
        var named = OnnxBertImporter.ReadStateDict(TinyBertOnnx(), "tiny-bert.onnx", out _);

        named.Keys.Should().BeEquivalentTo(weights.Keys);
        foreach (var (key, value) in weights)
            TinyBertParityTests.MaxAbsDifference(named[key], value).Should().Be(0, key);
        foreach (var tensor in named.Values) tensor.Dispose();
    }

    [Fact]
    public void Without_a_head_shape_in_the_graph_the_config_must_be_given()
    {
        var bytes = TinyBertOnnx(withHeadShape: false);

        var inferred = () => OnnxBertImporter.Load(new MemoryStream(bytes), "headless.onnx");
        using var given = OnnxBertImporter.Load(new MemoryStream(bytes), "headless.onnx", tinyConfig);

        inferred.Should().Throw<InvalidConfigurationException>().WithMessage("*headless.onnx*attention heads*");
        given.Config.NumAttentionHeads.Should().Be(4);
    }

    [Fact]
    public void A_config_that_does_not_fit_the_weights_lists_the_mismatches()
    {
        var act = () => OnnxBertImporter.Load(new MemoryStream(TinyBertOnnx()), "tiny-bert.onnx", tinyConfig with { IntermediateSize = 256 });

        act.Should().Throw<CheckpointMismatchException>()
            .Which.ShapeMismatches.Should().Contain(s => s.Contains("encoder.layer.0.intermediate.dense.weight"));
    }

    [Fact]
    public void A_truncated_file_is_a_corrupt_file_error_with_the_offset()
    {
        var bytes = TinyBertOnnx();

        var act = () => OnnxBertImporter.Load(new MemoryStream(bytes[..(bytes.Length / 2)]), "cut.onnx");

        var error = act.Should().Throw<CorruptFileException>().Which;
        error.Path.Should().Be("cut.onnx");
        error.Offset.Should().NotBeNull();
        error.Message.Should().Contain("truncated");
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_a_corrupt_file_error()
    {
        var act = () => OnnxBertImporter.Load(new MemoryStream("{\"hidden_size\": 64}"u8.ToArray()), "config.json");

        act.Should().Throw<CorruptFileException>().Which.Path.Should().Be("config.json");
    }

    [Fact]
    public void External_tensor_data_is_refused_naming_the_initializer()
    {
        var writer = new OnnxTestModelWriter();
        writer.Initializer("embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"], external: true);

        var act = () => OnnxBertImporter.Load(new MemoryStream(writer.ToArray()), "big.onnx");

        act.Should().Throw<CorruptFileException>().WithMessage("*big.onnx*embeddings.word_embeddings.weight*external*");
    }

    [Fact]
    public void Raw_data_of_the_wrong_length_is_a_corrupt_file_error_naming_the_initializer()
    {
        var writer = new OnnxTestModelWriter();
        writer.RawInitializer("embeddings.LayerNorm.weight", [64], new byte[100]);

        var act = () => OnnxBertImporter.Load(new MemoryStream(writer.ToArray()), "short.onnx");

        act.Should().Throw<CorruptFileException>().WithMessage("*embeddings.LayerNorm.weight*256 bytes*100*");
    }

    private byte[] TinyBertOnnx(bool withHeadShape = true)
    {
        var writer = new OnnxTestModelWriter();
        var next = 900;
        foreach (var (key, value) in weights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value.dim() != 2 || key.StartsWith("embeddings.", StringComparison.Ordinal))
            {
                // Some exporters write small tensors as float_data instead of raw_data; cover both.
                writer.Initializer(key, value, asFloatData: key.Contains("LayerNorm"));
                continue;
            }

            var anonymous = (next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var bias = key[..^".weight".Length] + ".bias";
            if (key.StartsWith("pooler.", StringComparison.Ordinal))
            {
                writer.Initializer(anonymous, value);
                writer.Node("Gemm", ["first_token", anonymous, bias], ["pooled"], ("transB", a => a.Int(3, 1)));
            }
            else
            {
                using var transposed = value.t();
                writer.Initializer(anonymous, transposed);
                writer.Node("MatMul", ["hidden", anonymous], [$"product_{anonymous}"]);
                writer.Node("Add", [bias, $"product_{anonymous}"], [$"sum_{anonymous}"]);
            }
        }

        if (withHeadShape)
        {
            writer.Int64Constant("heads", 4);
            writer.Int64Constant("head_size", 16);
            writer.Node("Concat", ["batch", "sequence", "heads", "head_size"], ["split_shape"], ("axis", a => a.Int(3, 0)));
        }

        writer.Node("Erf", ["scaled"], ["erf"]);
        writer.FloatConstant("eps", 1e-12f);
        writer.Node("Add", ["variance", "eps"], ["variance_eps"]);
        writer.Node("Sqrt", ["variance_eps"], ["std"]);
        return writer.ToArray();
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Values.Concat(io.Values)) tensor.Dispose();
    }
}
