using FluentAssertions;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

public sealed class BertTextTokenizerTests
{
    private static readonly string VocabPath = Path.Combine(Fixtures.TinyBertFolder, "vocab.txt");

    // Ids straight from vocab.txt (line number = id), independent of the tokenizer under test.
    private static readonly Dictionary<string, long> Vocab =
        File.ReadAllLines(VocabPath).Select((token, id) => (token, id)).ToDictionary(p => p.token, p => (long)p.id);

    [Fact]
    public void Long_sentences_are_cut_to_max_length_keeping_cls_and_sep()
    {
        var tokenizer = BertTextTokenizer.FromVocabFile(VocabPath);

        using var batch = tokenizer.EncodeBatch(["the movie was great , really great", "bad"], maxLength: 5);

        batch.InputIds.shape.Should().Equal(2, 5);
        batch.InputIds[0].data<long>().ToArray().Should().Equal(Vocab["[CLS]"], Vocab["the"], Vocab["movie"], Vocab["was"], Vocab["[SEP]"]);
        batch.InputIds[1].data<long>().ToArray().Should().Equal(Vocab["[CLS]"], Vocab["bad"], Vocab["[SEP]"], Vocab["[PAD]"], Vocab["[PAD]"]);
        batch.AttentionMask[1].data<long>().ToArray().Should().Equal(1, 1, 1, 0, 0);
    }

    [Fact]
    public void Without_lower_casing_upper_case_words_are_unknown()
    {
        var cased = BertTextTokenizer.FromVocabFile(VocabPath, lowerCase: false);
        var uncased = BertTextTokenizer.FromVocabFile(VocabPath, lowerCase: true);

        cased.Encode("GREAT", 8).Should().Equal((int)Vocab["[CLS]"], (int)Vocab["[UNK]"], (int)Vocab["[SEP]"]);
        uncased.Encode("GREAT", 8).Should().Equal((int)Vocab["[CLS]"], (int)Vocab["great"], (int)Vocab["[SEP]"]);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var tokenizer = BertTextTokenizer.FromVocabFile(VocabPath);

        ((Action)(() => tokenizer.EncodeBatch([], 8))).Should().Throw<ArgumentException>();
        ((Action)(() => tokenizer.EncodeBatch(["a"], 1))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => BertTextTokenizer.FromVocabFile("no/such/vocab.txt"))).Should().Throw<FileNotFoundException>().WithMessage("*no/such/vocab.txt*");
    }
}
