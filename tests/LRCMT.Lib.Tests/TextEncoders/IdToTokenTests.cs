using System.Text.Json;
using FluentAssertions;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>IdToToken reads the vocabulary backwards: checked against the vocabulary files themselves.</summary>
public class IdToTokenTests
{
    [Fact]
    public void Every_id_of_a_vocab_txt_gives_the_token_on_its_line()
    {
        string vocab = Path.Combine(Fixtures.TinyBertFolder, "vocab.txt");
        var lines = File.ReadAllLines(vocab);
        ITextTokenizer tokenizer = BertTextTokenizer.FromVocabFile(vocab);

        Enumerable.Range(0, lines.Length).Select(tokenizer.IdToToken).Should().Equal(lines);
        tokenizer.IdToToken(lines.Length).Should().BeNull();
        tokenizer.IdToToken(-1).Should().BeNull();
    }

    [Fact]
    public void A_byte_level_bpe_tokenizer_gives_its_vocabulary_entry_and_added_tokens_their_content()
    {
        string folder = Fixtures.File("roberta");
        var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(folder, "vocab.json")))!;
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")));
        var tokenizer = RobertaTextTokenizer.FromTokenizerJson(Path.Combine(folder, "tokenizer.json"));

        foreach (var (token, id) in vocabulary) tokenizer.IdToToken(id).Should().Be(token);
        foreach (var added in json.RootElement.GetProperty("added_tokens").EnumerateArray())
            tokenizer.IdToToken(added.GetProperty("id").GetInt32()).Should().Be(added.GetProperty("content").GetString());
    }

    [Fact]
    public void The_ids_of_an_encoded_sentence_read_back_as_its_word_pieces()
    {
        var tokenizer = BertTextTokenizer.FromVocabFile(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"));
        var ids = tokenizer.Encode("The movie, boring", 16);

        ids.Select(tokenizer.IdToToken).Should().Equal("[CLS]", "the", "movie", ",", "boring", "[SEP]");
    }
}
