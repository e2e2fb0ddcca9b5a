using FluentAssertions;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// The BERT pipeline's rules on a vocabulary written here, so every expected id is a line number of this file's
/// vocabulary and independent of the tokenizer under test.
/// </summary>
public sealed class BertTokenizationBehaviourTests : IDisposable
{
    private static readonly string[] Tokens =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "cafe", "café", "中", "文", ",", "$", "5", ".", "99", "2", "+", "=", "4",
        "a", "##a", "un", "##believ", "##able", "_", "x",
    ];

    private readonly string vocabPath = Path.Combine(Path.GetTempPath(), $"bert-vocab-{Guid.NewGuid():N}.txt");

    public BertTokenizationBehaviourTests() => File.WriteAllLines(vocabPath, Tokens);

    [Fact]
    public void Uncased_strips_accents_cased_keeps_them_and_keep_accents_only_lowercases()
    {
        Words(new BertTokenizerOptions(), "Café").Should().Equal("cafe");
        Words(new BertTokenizerOptions { Lowercase = false }, "Café").Should().Equal("Café");
        Words(new BertTokenizerOptions { StripAccents = false }, "Café").Should().Equal("café");
        Words(new BertTokenizerOptions(), "cafe\u0301").Should().Equal(["cafe"], "a decomposed accent is stripped like a precomposed one");
    }

    [Fact]
    public void Ascii_symbols_are_split_off_and_kept_not_dropped()
    {
        Words(new BertTokenizerOptions(), "2+2=4, and $5.99").Should().Equal("2", "+", "2", "=", "4", ",", "[UNK]", "$", "5", ".", "99");
        Words(new BertTokenizerOptions(), "x_x").Should().Equal("x", "_", "x");
    }

    [Fact]
    public void Cjk_ideographs_become_words_of_their_own_unless_disabled()
    {
        Words(new BertTokenizerOptions(), "中文x").Should().Equal("中", "文", "x");
        Words(new BertTokenizerOptions { TokenizeChineseChars = false }, "中文").Should().Equal(["[UNK]"], "without splitting, 中文 needs ##文, which the vocabulary lacks");
    }

    [Fact]
    public void Wordpiece_takes_the_longest_match_and_words_over_100_characters_are_unknown()
    {
        Words(new BertTokenizerOptions(), "unbelievable").Should().Equal("un", "##believ", "##able");
        Words(new BertTokenizerOptions(), new string('a', 100)).Should().Equal(["a", .. Enumerable.Repeat("##a", 99)]);
        Words(new BertTokenizerOptions(), new string('a', 101)).Should().Equal("[UNK]");
        Words(new BertTokenizerOptions(), "unbelievablex").Should().Equal(["[UNK]"], "one unmatched piece makes the whole word unknown");
    }

    [Fact]
    public void Control_and_zero_width_characters_vanish_and_odd_whitespace_separates()
    {
        Words(new BertTokenizerOptions(), "ca\u200Bfe").Should().Equal("cafe");
        Words(new BertTokenizerOptions(), "ca\u0000fe\u00AD").Should().Equal("cafe");
        Words(new BertTokenizerOptions(), "cafe\tx\u00A0cafe\u3000x").Should().Equal("cafe", "x", "cafe", "x");
    }

    [Fact]
    public void Special_tokens_written_in_the_text_are_matched_case_sensitively_before_normalization()
    {
        Words(new BertTokenizerOptions(), "[MASK]cafe").Should().Equal("[MASK]", "cafe");
        Words(new BertTokenizerOptions(), "[mask]").Should().Equal(["[UNK]", "[UNK]", "[UNK]"], "lower-case [mask] is plain text: [, mask, ]");
    }

    public void Dispose() => File.Delete(vocabPath);

    private List<string> Words(BertTokenizerOptions options, string text)
    {
        var ids = BertTextTokenizer.FromVocabFile(vocabPath, options).Encode(text, 1000);
        ids[0].Should().Be(Array.IndexOf(Tokens, "[CLS]"));
        ids[^1].Should().Be(Array.IndexOf(Tokens, "[SEP]"));
        return ids.Skip(1).SkipLast(1).Select(id => Tokens[id]).ToList();
    }
}
