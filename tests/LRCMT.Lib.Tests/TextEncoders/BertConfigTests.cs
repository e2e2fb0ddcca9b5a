using FluentAssertions;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

public sealed class BertConfigTests
{
    [Fact]
    public void Reads_every_field_of_a_hugging_face_config_json()
    {
        var config = BertConfig.FromFile(Path.Combine(Fixtures.TinyBertFolder, "config.json"));

        config.Should().BeEquivalentTo(new BertConfig
        {
            VocabSize = 120, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
            MaxPositionEmbeddings = 64, TypeVocabSize = 2, HiddenAct = "gelu", HiddenDropoutProb = 0.0,
            AttentionProbsDropoutProb = 0.0, LayerNormEps = 1e-12, PadTokenId = 0,
        });
    }

    [Fact]
    public void Base_has_the_hugging_face_BertConfig_defaults()
    {
        // transformers' BertConfig() signature defaults, written out independently of our record's initialisers.
        BertConfig.Base().Should().BeEquivalentTo(new
        {
            VocabSize = 30522, HiddenSize = 768, NumHiddenLayers = 12, NumAttentionHeads = 12, IntermediateSize = 3072,
            HiddenAct = "gelu", HiddenDropoutProb = 0.1, AttentionProbsDropoutProb = 0.1, MaxPositionEmbeddings = 512,
            TypeVocabSize = 2, LayerNormEps = 1e-12, PadTokenId = 0,
        });
    }

    [Fact]
    public void Absent_and_null_keys_keep_the_defaults()
    {
        var config = BertConfig.FromJson("""{"model_type":"bert","hidden_size":128,"num_attention_heads":4,"pad_token_id":null,"hidden_act":"gelu_new"}""");

        config.HiddenSize.Should().Be(128);
        config.HiddenAct.Should().Be("gelu_new");
        config.PadTokenId.Should().Be(0);
        config.VocabSize.Should().Be(30522);
    }

    [Fact]
    public void A_config_of_another_model_type_is_rejected_naming_the_file()
    {
        var act = () => BertConfig.FromJson("""{"model_type":"roberta","hidden_size":768}""", "some/roberta/config.json");

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*some/roberta/config.json*roberta*");
    }

    [Fact]
    public void Relative_position_embeddings_are_rejected()
    {
        var act = () => BertConfig.FromJson("""{"model_type":"bert","position_embedding_type":"relative_key"}""");

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*relative_key*");
    }

    [Fact]
    public void Inconsistent_values_are_all_listed()
    {
        var act = () => BertConfig.FromJson("""{"hidden_size":100,"num_attention_heads":12,"hidden_act":"swish","vocab_size":0}""", "cfg.json");

        act.Should().Throw<InvalidConfigurationException>()
            .Which.Problems.Select(p => p.Path).Should().BeEquivalentTo(["vocab_size", "num_attention_heads", "hidden_act", "pad_token_id"]);
    }

    [Fact]
    public void Malformed_json_and_wrongly_typed_keys_are_corrupt_files()
    {
        var notJson = () => BertConfig.FromJson("{\"hidden_size\": ", "broken.json");
        var wrongType = () => BertConfig.FromJson("""{"hidden_size":"big"}""", "typed.json");

        notJson.Should().Throw<CorruptFileException>().Which.Path.Should().Be("broken.json");
        wrongType.Should().Throw<CorruptFileException>().WithMessage("*typed.json*hidden_size*");
    }
}
