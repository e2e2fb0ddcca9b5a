using FluentAssertions;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Every Unicode code point against HF's ids, from files written by Fixtures/tokenizer/every-code-point.js into the
/// folder named by <c>LRCMT_TOKENIZER_SWEEP</c> (about 40 MB, so not committed; skipped when the variable is unset).
/// </summary>
public sealed class EveryCodePointTests
{
    public const string Variable = "LRCMT_TOKENIZER_SWEEP";
    private const string SkipReason = "set " + Variable + " to a folder written by every-code-point.js";

    public static bool Available => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } folder && Directory.Exists(folder);

    [Theory(Skip = SkipReason, SkipUnless = nameof(Available), SkipType = typeof(EveryCodePointTests))]
    [InlineData("bert-uncased")]
    [InlineData("bert-raw")]
    [InlineData("roberta")]
    public void Every_code_point_gives_hugging_face_ids(string run)
    {
        Func<string, IReadOnlyList<int>> encode = run switch
        {
            "bert-uncased" => Wordpiece(new BertTokenizerOptions()),
            "bert-raw" => Wordpiece(new BertTokenizerOptions { Lowercase = false, CleanText = false, TokenizeChineseChars = false }),
            _ => Roberta(),
        };
        var differing = new List<string>();
        var count = 0;
        foreach (var line in File.ReadLines(Path.Combine(Environment.GetEnvironmentVariable(Variable)!, run + ".txt")))
        {
            var (hex, ids) = (line[..line.IndexOf(' ')], line[(line.IndexOf(' ') + 1)..]);
            var c = char.ConvertFromUtf32(Convert.ToInt32(hex, 16));
            var expected = ids.Length == 0 ? [] : ids.Split(',').Select(int.Parse).ToArray();
            count++;
            if (!encode(run == "roberta" ? $"x{c}y {c}1" : $"x{c}y").SequenceEqual(expected)) differing.Add("U+" + hex.ToUpperInvariant());
        }

        count.Should().Be(0x110000 - 0x800, "every code point but the surrogates");
        differing.Should().BeEmpty($"{differing.Count} of {count} code points differ");
    }

    // every-code-point.js declares no added tokens and no post-processor: compare the ids between [CLS] and [SEP].
    private static Func<string, IReadOnlyList<int>> Wordpiece(BertTokenizerOptions options)
    {
        using var vocabulary = MiniLMResources.OpenVocabulary();
        var tokenizer = BertTextTokenizer.FromVocabStream(vocabulary, options);
        return text => tokenizer.Encode(text, 1000).Skip(1).SkipLast(1).ToList();
    }

    private static Func<string, IReadOnlyList<int>> Roberta()
    {
        var tokenizer = RobertaTextTokenizer.FromFolder(Fixtures.File("roberta"));
        return text => tokenizer.Encode(text, 1000);
    }
}
