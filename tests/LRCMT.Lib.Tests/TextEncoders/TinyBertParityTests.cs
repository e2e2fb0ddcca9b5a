using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.TextEncoders;

/// <summary>Our BERT and tokenizer against Hugging Face's outputs for the tiny-bert fixture (see Fixtures/README).</summary>
public sealed class TinyBertParityTests : IDisposable
{
    private readonly Dictionary<string, Tensor> io = SafetensorsFile.Load(Fixtures.TinyBertIo);
    private readonly BertModel model = BertModel.FromPretrained(Fixtures.TinyBertFolder);

    [Fact]
    public void Tokenizer_reproduces_hugging_face_input_ids_mask_and_types()
    {
        var tokenizer = BertTextTokenizer.FromVocabFile(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"), lowerCase: true);
        using var batch = tokenizer.EncodeBatch(["The movie was GREAT!", "i really hate this boring film ."], maxLength: 64);

        batch.InputIds.data<long>().ToArray().Should().Equal(io["input_ids"].data<long>().ToArray());
        batch.InputIds.shape.Should().Equal(io["input_ids"].shape);
        batch.AttentionMask.data<long>().ToArray().Should().Equal(io["attention_mask"].data<long>().ToArray());
        batch.TokenTypeIds.data<long>().ToArray().Should().Equal(io["token_type_ids"].data<long>().ToArray());
        tokenizer.VocabularySize.Should().Be(120);
    }

    [Fact]
    public void Last_hidden_state_and_pooler_output_match_hugging_face_within_1e_5()
    {
        using var _ = no_grad();
        var output = model.call(io["input_ids"], io["attention_mask"], io["token_type_ids"]);

        var hiddenError = MaxAbsDifference(output.LastHiddenState, io["base_last_hidden_state"]);
        var poolerError = MaxAbsDifference(output.PooledOutput!, io["base_pooler_output"]);
        TestContext.Current.TestOutputHelper?.WriteLine($"max |h - h_hf| = {hiddenError:E2}, max |pooled - pooled_hf| = {poolerError:E2}");

        hiddenError.Should().BeLessThan(1e-5);
        poolerError.Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Padded_positions_do_not_change_the_real_tokens_states()
    {
        // The first sentence is padded in the fixture; encoded alone (no padding) its real tokens must come out the same.
        using var _ = no_grad();
        var realLength = io["attention_mask"][0].sum().item<long>();
        using var ids = io["input_ids"][0..1, 0..(int)realLength];
        using var mask = ones_like(ids);
        var alone = model.call(ids, mask, null);
        var padded = model.call(io["input_ids"], io["attention_mask"], io["token_type_ids"]);

        MaxAbsDifference(alone.LastHiddenState, padded.LastHiddenState[0..1, 0..(int)realLength]).Should().BeLessThan(1e-5);
        realLength.Should().BeLessThan(io["input_ids"].size(1), "the fixture's first sentence must actually be padded");
    }

    [Fact]
    public void Parameter_names_are_hugging_face_names()
    {
        var names = model.state_dict().Keys.ToHashSet();
        names.Should().Contain([
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "encoder.layer.1.attention.self.query.weight", "encoder.layer.1.attention.self.key.bias",
            "encoder.layer.1.attention.self.value.weight", "encoder.layer.1.attention.output.dense.weight",
            "encoder.layer.1.attention.output.LayerNorm.bias", "encoder.layer.1.intermediate.dense.weight",
            "encoder.layer.1.output.dense.weight", "encoder.layer.1.output.LayerNorm.weight", "pooler.dense.weight",
        ]);
        var checkpointKeys = SafetensorsFile.ReadHeader(Path.Combine(Fixtures.TinyBertFolder, "model.safetensors")).Entries.Keys;
        names.Should().BeEquivalentTo(checkpointKeys);
    }

    internal static double MaxAbsDifference(Tensor actual, Tensor expected)
    {
        actual.shape.Should().Equal(expected.shape);
        using var difference = (actual - expected).abs().max();
        return difference.item<float>();
    }

    public void Dispose()
    {
        model.Dispose();
        foreach (var tensor in io.Values) tensor.Dispose();
    }
}
