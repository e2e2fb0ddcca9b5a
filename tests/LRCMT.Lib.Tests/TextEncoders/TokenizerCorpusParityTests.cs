using System.Globalization;
using FluentAssertions;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Every corpus line gives Hugging Face's ids. <see cref="InvariantGlobalizationTests"/> runs this class again in a
/// process with <c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1</c>.
/// </summary>
public sealed class TokenizerCorpusParityTests
{
    private const int NoLimit = 100_000;

    [Theory]
    [InlineData("uncased")]
    [InlineData("uncased-keep-accents")]
    [InlineData("cased")]
    [InlineData("chinese")]
    [InlineData("cased-raw")]
    public void Every_corpus_line_matches_hugging_face_from_vocab_txt(string configuration)
    {
        var tokenizer = TokenizerReference.FromVocab(configuration);

        var mismatches = TokenizerReference.Mismatches(t => tokenizer.Encode(t, NoLimit), TokenizerReference.Ids(configuration));

        mismatches.Should().BeEmpty($"{mismatches.Count}/{TokenizerReference.Corpus.Count} lines differ ({GlobalizationMode()})");
    }

    [Theory]
    [InlineData("uncased")]
    [InlineData("cased-raw")]
    public void Code_points_whose_category_changed_across_unicode_versions_are_treated_as_hugging_face_does(string configuration)
    {
        // Marks, punctuation and format characters Unicode added after 8.0 (HF's category tables), the ones whose category
        // changed since, and a sample of older ones, each as "x<c>y".
        var tokenizer = TokenizerReference.FromVocab(configuration);
        var lines = TokenizerReference.Lines("unicode-edges.jsonl");
        var expected = TokenizerReference.Ids(configuration + "-unicode-edges");

        var mismatches = Enumerable.Range(0, lines.Count).Where(i => !tokenizer.Encode(lines[i], NoLimit).SequenceEqual(expected[i]))
            .Select(i => $"U+{char.ConvertToUtf32(lines[i], 1):X4}").ToList();

        mismatches.Should().BeEmpty($"{mismatches.Count}/{lines.Count} code points differ ({GlobalizationMode()})");
    }

    [Theory]
    [InlineData("bert-cased", "cased")]
    [InlineData("bert-chinese", "chinese")]
    public void A_tokenizer_json_folder_gives_the_same_ids_as_its_vocab_txt(string folder, string configuration)
    {
        var fromJson = BertTextTokenizer.FromFolder(Path.Combine(TokenizerReference.Folder, folder));
        var fromVocab = TokenizerReference.FromVocab(configuration);

        var expected = TokenizerReference.Ids(configuration);
        TokenizerReference.Mismatches(t => fromJson.Encode(t, NoLimit), expected).Should().BeEmpty();
        TokenizerReference.Mismatches(t => fromVocab.Encode(t, NoLimit), expected).Should().BeEmpty();
    }

    [Fact]
    public void Truncation_and_padding_of_batches_match_hugging_face()
    {
        var tokenizer = TokenizerReference.FromVocab("uncased");

        AssertBatches(tokenizer, 12, TokenizerReference.PaddedRows("uncased-truncated-12-padded"));
    }

    [Fact]
    public void Truncation_and_left_padding_set_in_tokenizer_json_are_honoured()
    {
        // The file truncates to 10 and pads on the left to a multiple of 8; the caller's larger limit does not undo that.
        var tokenizer = BertTextTokenizer.FromTokenizerJson(Path.Combine(TokenizerReference.Folder, "bert-cased-truncating", "tokenizer.json"));

        AssertBatches(tokenizer, 512, TokenizerReference.PaddedRows("cased-json-truncated-10-left-padded-8"));
    }

    private static void AssertBatches(BertTextTokenizer tokenizer, int maxLength, IReadOnlyList<TokenizerReference.PaddedRow> expected)
    {
        for (var start = 0; start < expected.Count; start += 6)
        {
            var texts = TokenizerReference.Corpus.Skip(start).Take(6).ToList();
            using var batch = tokenizer.EncodeBatch(texts, maxLength);
            for (var row = 0; row < texts.Count; row++)
            {
                var want = expected[start + row];
                batch.InputIds[row].data<long>().ToArray().Should().Equal(want.Ids.Select(i => (long)i), $"ids of line {start + row + 1}");
                batch.AttentionMask[row].data<long>().ToArray().Should().Equal(want.AttentionMask.Select(i => (long)i), $"mask of line {start + row + 1}");
                batch.TokenTypeIds[row].data<long>().ToArray().Should().Equal(want.TypeIds.Select(i => (long)i), $"type ids of line {start + row + 1}");
            }
        }
    }

    private static string GlobalizationMode()
    {
        try
        {
            _ = CultureInfo.GetCultureInfo("fr-FR");
            return "ICU globalization";
        }
        catch (CultureNotFoundException)
        {
            return "invariant globalization";
        }
    }
}
