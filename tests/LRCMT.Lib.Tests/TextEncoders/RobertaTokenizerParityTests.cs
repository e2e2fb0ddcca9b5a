using System.Text.Json;
using FluentAssertions;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Byte-level BPE ids against Hugging Face's (Fixtures/tokenizer/reference/roberta.jsonl: the corpus plus three lines with
/// special tokens). Also run in invariant globalization by <see cref="InvariantGlobalizationTests"/>.
/// </summary>
public sealed class RobertaTokenizerParityTests
{
    private static readonly string Folder = Fixtures.File("roberta");
    private static readonly string[] ExtraLines = ["a <mask> b", "x<mask>", "<s>hi</s>"];

    [Fact]
    public void Vocab_json_and_merges_txt_give_hugging_face_ids_on_every_line()
    {
        var tokenizer = RobertaTextTokenizer.FromFiles(Path.Combine(Folder, "vocab.json"), Path.Combine(Folder, "merges.txt"));

        Mismatches(tokenizer).Should().BeEmpty();
    }

    [Fact]
    public void Tokenizer_json_saved_by_hugging_face_gives_the_same_ids()
    {
        var tokenizer = RobertaTextTokenizer.FromFolder(Folder);

        Mismatches(tokenizer).Should().BeEmpty();
    }

    [Fact]
    public void Batches_are_truncated_padded_with_pad_and_have_one_token_type()
    {
        var tokenizer = RobertaTextTokenizer.FromFiles(Path.Combine(Folder, "vocab.json"), Path.Combine(Folder, "merges.txt"));
        using var vocabulary = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "vocab.json")));
        var pad = vocabulary.RootElement.GetProperty("<pad>").GetInt64();
        var expected = TokenizerReference.Ids("roberta");
        var shortLine = Enumerable.Range(0, TokenizerReference.Corpus.Count).First(i => expected[i].Length < 6);

        using var batch = tokenizer.EncodeBatch([TokenizerReference.Corpus[0], TokenizerReference.Corpus[shortLine]], 6);

        // Truncation keeps <s>, the first four pieces and </s>; the short row is padded with <pad> and masked.
        batch.InputIds[0].data<long>().ToArray().Should().Equal(expected[0].Take(5).Append(expected[0][^1]).Select(i => (long)i));
        var row = batch.InputIds[1].data<long>().ToArray();
        row.Take(expected[shortLine].Length).Should().Equal(expected[shortLine].Select(i => (long)i));
        row.Skip(expected[shortLine].Length).Should().OnlyContain(id => id == pad);
        batch.AttentionMask[1].sum().item<long>().Should().Be(expected[shortLine].Length);
        batch.TokenTypeIds.count_nonzero().item<long>().Should().Be(0);
    }

    private static List<string> Mismatches(RobertaTextTokenizer tokenizer)
    {
        var expected = TokenizerReference.Ids("roberta");
        var problems = TokenizerReference.Mismatches(t => tokenizer.Encode(t, 100_000), expected.Take(TokenizerReference.Corpus.Count).ToList());
        for (var i = 0; i < ExtraLines.Length; i++)
        {
            var actual = tokenizer.Encode(ExtraLines[i], 100_000);
            if (!actual.SequenceEqual(expected[TokenizerReference.Corpus.Count + i]))
                problems.Add($"'{ExtraLines[i]}': expected [{string.Join(",", expected[TokenizerReference.Corpus.Count + i])}] got [{string.Join(",", actual)}]");
        }

        return problems;
    }
}
