using System.Text.Json;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// The tokenizer corpus and Hugging Face's ids for it (Fixtures/tokenizer, written by make-reference.sh with the npm
/// package <c>tokenizers</c>, HF's own Rust implementation).
/// </summary>
internal static class TokenizerReference
{
    public static string Folder => Fixtures.File("tokenizer");

    public static IReadOnlyList<string> Corpus { get; } = Lines("corpus.jsonl");

    /// <summary>A fixture file of JSON strings, one a line.</summary>
    public static IReadOnlyList<string> Lines(string file) =>
        File.ReadAllLines(Path.Combine(Folder, file)).Select(l => JsonSerializer.Deserialize<string>(l)!).ToList();

    public static IReadOnlyList<int[]> Ids(string name) =>
        File.ReadAllLines(Path.Combine(Folder, "reference", name + ".jsonl")).Select(l => JsonSerializer.Deserialize<int[]>(l)!).ToList();

    public static IReadOnlyList<PaddedRow> PaddedRows(string name) =>
        File.ReadAllLines(Path.Combine(Folder, "reference", name + ".jsonl"))
            .Select(l => JsonSerializer.Deserialize<PaddedRow>(l, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!)
            .ToList();

    /// <summary>The named BERT configuration of make-reference.js, built from its vocab.txt.</summary>
    public static BertTextTokenizer FromVocab(string name) => name switch
    {
        "uncased" => MiniLM(new BertTokenizerOptions()),
        "uncased-keep-accents" => MiniLM(new BertTokenizerOptions { StripAccents = false }),
        "cased" => BertTextTokenizer.FromVocabFile(Path.Combine(Folder, "vocab-cased.txt"), new BertTokenizerOptions { Lowercase = false }),
        "chinese" => BertTextTokenizer.FromVocabFile(Path.Combine(Folder, "vocab-chinese.txt"), new BertTokenizerOptions { Lowercase = false }),
        "cased-raw" => BertTextTokenizer.FromVocabFile(
            Path.Combine(Folder, "vocab-cased.txt"),
            new BertTokenizerOptions { Lowercase = false, CleanText = false, TokenizeChineseChars = false }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    /// <summary>"line N: text / expected / actual" for every corpus line whose ids differ (empty when all match).</summary>
    public static List<string> Mismatches(Func<string, IReadOnlyList<int>> encode, IReadOnlyList<int[]> expected)
    {
        var problems = new List<string>();
        for (var i = 0; i < Corpus.Count; i++)
        {
            var actual = encode(Corpus[i]);
            if (!actual.SequenceEqual(expected[i]))
                problems.Add($"line {i + 1} {JsonSerializer.Serialize(Corpus[i])}: expected [{string.Join(",", expected[i])}] got [{string.Join(",", actual)}]");
        }

        return problems;
    }

    private static BertTextTokenizer MiniLM(BertTokenizerOptions options)
    {
        using var vocabulary = MiniLMResources.OpenVocabulary();
        return BertTextTokenizer.FromVocabStream(vocabulary, options);
    }

    public sealed record PaddedRow(int[] Ids, int[] AttentionMask, int[] TypeIds);
}
