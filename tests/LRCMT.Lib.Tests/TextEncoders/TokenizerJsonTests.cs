using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>tokenizer.json settings this library cannot reproduce are refused with a typed error, never approximated.</summary>
public sealed class TokenizerJsonTests : IDisposable
{
    private static readonly string CasedJson = Path.Combine(TokenizerReference.Folder, "bert-cased", "tokenizer.json");
    private readonly string folder = Directory.CreateTempSubdirectory("tokenizer-json-").FullName;

    [Theory]
    [InlineData("normalizer", """{"type": "NFKC"}""", "*NFKC*")]
    [InlineData("pre_tokenizer", """{"type": "Whitespace"}""", "*Whitespace*")]
    [InlineData("post_processor", """{"type": "Unknown"}""", "*Unknown*")]
    [InlineData("padding", """{"strategy": "Weird", "direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}""", "*Weird*")]
    [InlineData("truncation", """{"max_length": 8, "direction": "Up", "strategy": "LongestFirst", "stride": 0}""", "*Up*")]
    public void Unsupported_components_are_refused(string key, string replacement, string message)
    {
        var json = JsonNode.Parse(File.ReadAllText(CasedJson))!;
        json[key] = JsonNode.Parse(replacement);

        var act = () => BertTextTokenizer.FromTokenizerJson(Write(json));

        act.Should().Throw<UnsupportedTokenizerException>().WithMessage(message);
    }

    [Fact]
    public void A_unigram_model_and_single_word_added_tokens_are_refused()
    {
        var unigram = JsonNode.Parse(File.ReadAllText(CasedJson))!;
        unigram["model"]!["type"] = "Unigram";
        var singleWord = JsonNode.Parse(File.ReadAllText(CasedJson))!;
        singleWord["added_tokens"]![0]!["single_word"] = true;

        ((Action)(() => BertTextTokenizer.FromTokenizerJson(Write(unigram)))).Should().Throw<UnsupportedTokenizerException>().WithMessage("*Unigram*");
        ((Action)(() => BertTextTokenizer.FromTokenizerJson(Write(singleWord)))).Should().Throw<UnsupportedTokenizerException>().WithMessage("*single_word*");
    }

    [Fact]
    public void Each_family_refuses_the_other_s_tokenizer_json()
    {
        var roberta = Path.Combine(TokenizerReference.Folder, "..", "roberta", "tokenizer.json");

        ((Action)(() => BertTextTokenizer.FromTokenizerJson(roberta))).Should().Throw<UnsupportedTokenizerException>();
        ((Action)(() => RobertaTextTokenizer.FromTokenizerJson(CasedJson))).Should().Throw<UnsupportedTokenizerException>();
    }

    [Fact]
    public void Invalid_json_is_a_corrupt_file()
    {
        var path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, "{\"model\": ");

        ((Action)(() => BertTextTokenizer.FromTokenizerJson(path))).Should().Throw<CorruptFileException>().WithMessage($"*{path}*");
    }

    [Fact]
    public void A_vocab_txt_folder_takes_its_options_from_tokenizer_config_json()
    {
        File.Copy(Path.Combine(TokenizerReference.Folder, "vocab-cased.txt"), Path.Combine(folder, "vocab.txt"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"do_lower_case": false, "tokenizer_class": "BertTokenizer"}""");

        var tokenizer = BertTextTokenizer.FromFolder(folder);

        TokenizerReference.Mismatches(t => tokenizer.Encode(t, 100_000), TokenizerReference.Ids("cased")).Should().BeEmpty();
    }

    [Fact]
    public void A_vocab_txt_folder_of_another_tokenizer_class_is_refused()
    {
        File.Copy(Path.Combine(TokenizerReference.Folder, "vocab-cased.txt"), Path.Combine(folder, "vocab.txt"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"tokenizer_class": "BertJapaneseTokenizer"}""");

        ((Action)(() => BertTextTokenizer.FromFolder(folder))).Should().Throw<UnsupportedTokenizerException>().WithMessage("*BertJapaneseTokenizer*");
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Write(JsonNode json)
    {
        var path = Path.Combine(folder, $"tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }
}
