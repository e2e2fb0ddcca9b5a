using System.Text;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>Sizes from config.json and vocab.txt are bounded before anything is allocated (issue 12).</summary>
public class BertConfigBoundsTests
{
    [Fact]
    public void A_vocab_size_of_60_million_is_refused_naming_the_field_and_value()
    {
        var act = () => BertConfig.FromJson("""{ "vocab_size": 60000000 }""", "huge/config.json");

        act.Should().Throw<InvalidConfigurationException>().Which.Message.Should()
            .Contain("huge/config.json").And.Contain("vocab_size").And.Contain("60000000");
    }

    [Theory]
    [InlineData("hidden_size", 1 << 20)]
    [InlineData("num_hidden_layers", 100000)]
    [InlineData("intermediate_size", int.MaxValue)]
    [InlineData("max_position_embeddings", 10000000)]
    public void Every_size_has_an_upper_bound(string key, int value)
    {
        var act = () => BertConfig.FromJson($$"""{ "{{key}}": {{value}}, "num_attention_heads": 1 }""");

        act.Should().Throw<InvalidConfigurationException>().WithMessage($"*{key}*{value}*");
    }

    [Fact]
    public void Sizes_each_within_bounds_but_too_many_parameters_together_are_refused()
    {
        var act = () => BertConfig.FromJson("""{ "vocab_size": 1000000, "hidden_size": 60000, "num_attention_heads": 1 }""");

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*parameters*");
    }

    [Theory]
    [InlineData("""{ "hidden_dropout_prob": NaN }""")]
    public void Non_json_numbers_are_a_corrupt_file(string json)
    {
        var act = () => BertConfig.FromJson(json);

        act.Should().Throw<CorruptFileException>();
    }

    [Fact]
    public void Bert_base_stays_within_every_bound()
    {
        BertConfig.Base().Validate();
        BertConfig.Base().ParameterCount().Should().Be(109_482_240, "bert-base-uncased has 109,482,240 parameters with its pooler");
    }

    private static BertTextTokenizer Tokenizer(int words)
    {
        var lines = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(Enumerable.Range(0, words).Select(i => $"w{i}"));
        return BertTextTokenizer.FromVocabStream(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")));
    }

    [Fact]
    public void A_vocab_txt_shorter_than_vocab_size_is_refused()
    {
        var tokenizer = Tokenizer(10);
        var config = new BertConfig { VocabSize = 30 };

        var act = () => tokenizer.RequireMatches(config, "enc");

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*15 tokens*vocab_size is 30*");
    }

    [Fact]
    public void A_vocab_txt_of_exactly_vocab_size_passes()
    {
        Tokenizer(10).RequireMatches(new BertConfig { VocabSize = 15 }, "enc");
    }

    [Fact]
    public void A_vocab_without_special_tokens_or_empty_is_a_corrupt_file()
    {
        var empty = () => BertTextTokenizer.FromVocabStream(new MemoryStream());

        empty.Should().Throw<CorruptFileException>().WithMessage("*vocab.txt*");
    }
}
