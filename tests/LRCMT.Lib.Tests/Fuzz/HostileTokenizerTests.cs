using System.Text;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using Xunit;
using static LRCMT.Tests.Fuzz.HostileTokenizerGenerator;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Every hostile tokenizer class of issue 27, from our own generators: each case loads or throws an
/// <see cref="LrcmtException"/> within 10 s (a hang fails the test), a case that must be refused is refused, and a
/// tokenizer that loads gives only ids inside its vocabulary. <c>LRCMT_FUZZ_CASES</c> raises the number of cases.
/// </summary>
public sealed class HostileTokenizerTests : IDisposable
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);
    private readonly string folder = Directory.CreateTempSubdirectory("lrcmt-hostile-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static int Cases => Math.Max(20, (int.TryParse(Environment.GetEnvironmentVariable("LRCMT_FUZZ_CASES"), out var n) ? n : 0) / 20);

    [Theory]
    [InlineData(Hostility.InvalidUtf8)]
    [InlineData(Hostility.LoneSurrogate)]
    [InlineData(Hostility.IdLie)]
    [InlineData(Hostility.DuplicateId)]
    [InlineData(Hostility.HugeLength)]
    public void Every_hostile_tokenizer_json_loads_correctly_or_is_a_typed_error(Hostility hostility)
    {
        var random = new Random(27 + (int)hostility);
        var failures = new List<string>();
        for (var i = 0; i < Cases; i++)
        {
            var hostile = Make(hostility, random);
            var path = Path.Combine(folder, $"{hostility}-{i}.json");
            File.WriteAllBytes(path, hostile.Bytes);
            var outcome = WithinHangLimit(() => LoadAndEncode(path, hostile.WordPiece));
            if (outcome is not null && (outcome is not LrcmtException || hostile.MustFail && outcome is not CorruptFileException))
                failures.Add($"{hostile.How}: {outcome.GetType().Name}: {outcome.Message}");
            else if (outcome is null && hostile.MustFail)
                failures.Add($"{hostile.How}: loaded, but must be refused");
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void A_vocabulary_larger_than_the_limit_is_refused_before_it_is_built()
    {
        var lines = new StringBuilder("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
        for (var i = 5; i <= 1 << 20; i++) lines.Append('t').Append(i).Append('\n');

        var act = () => BertTextTokenizer.FromVocabStream(new MemoryStream(Encoding.UTF8.GetBytes(lines.ToString())));

        act.Should().Throw<CorruptFileException>().WithMessage("*more than the 1048576 tokens*");
    }

    [Fact]
    public void Long_words_under_any_max_input_chars_per_word_tokenize_as_the_greedy_definition_says_without_stalling()
    {
        var random = new Random(5);
        for (var round = 0; round < 6; round++)
        {
            // Chains of a's (and b's) of random lengths: every piece search can walk far before it fails.
            var pieces = Enumerable.Range(1, 40).Select(_ => new string(random.Next(3) == 0 ? 'b' : 'a', random.Next(1, 60))).Distinct().ToList();
            var vocabulary = new Dictionary<string, int> { ["[PAD]"] = 0, ["[UNK]"] = 1, ["[CLS]"] = 2, ["[SEP]"] = 3, ["a"] = 4, ["##a"] = 5 };
            foreach (var piece in pieces)
            {
                vocabulary.TryAdd(piece, vocabulary.Count);
                vocabulary.TryAdd("##" + piece, vocabulary.Count);
            }

            var path = Path.Combine(folder, $"chains-{round}.json");
            File.WriteAllText(path, JsonSerializer.Serialize(WordPieceJson(vocabulary, round % 2 == 0 ? int.MaxValue : 1_000_000, [])));
            var tokenizer = BertTextTokenizer.FromTokenizerJson(path);
            var longWord = new string(Enumerable.Range(0, 150_000).Select(_ => random.Next(8) == 0 ? 'b' : 'a').ToArray());
            var shortWord = longWord[..random.Next(50, 400)];

            WithinHangLimit(() => tokenizer.Encode(longWord, int.MaxValue)).Should().BeNull();
            tokenizer.Encode(shortWord, int.MaxValue).Should().Equal([2, .. GreedyWordPiece(shortWord, vocabulary), 3], "round {0}", round);
        }
    }

    [Fact]
    public void Many_added_tokens_over_long_text_are_matched_leftmost_longest_without_stalling()
    {
        var random = new Random(11);
        var vocabulary = new Dictionary<string, int> { ["[PAD]"] = 0, ["[UNK]"] = 1, ["[CLS]"] = 2, ["[SEP]"] = 3 };
        for (var c = 'a'; c <= 'c'; c++)
        {
            vocabulary[c.ToString()] = vocabulary.Count;
            vocabulary["##" + c] = vocabulary.Count;
        }

        // Tokens over a three-letter alphabet overlap, nest and share prefixes and suffixes everywhere.
        string Word(int length) => new(Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(3))).ToArray());
        var added = Enumerable.Range(0, 20_000).Select(_ => Word(random.Next(2, 14))).Where(t => !vocabulary.ContainsKey(t)).Distinct().ToList();
        var text = new StringBuilder();
        while (text.Length < 200_000) text.Append(random.Next(5) == 0 ? ' ' : (char)('a' + random.Next(3)));
        var path = Path.Combine(folder, "added.json");
        File.WriteAllText(path, JsonSerializer.Serialize(WordPieceJson(vocabulary, 100, added)));
        var tokenizer = BertTextTokenizer.FromTokenizerJson(path);
        var plainPath = Path.Combine(folder, "plain.json");
        File.WriteAllText(plainPath, JsonSerializer.Serialize(WordPieceJson(vocabulary, 100, [])));
        var plain = BertTextTokenizer.FromTokenizerJson(plainPath);

        WithinHangLimit(() => tokenizer.Encode(text.ToString(), int.MaxValue)).Should().BeNull();
        var sample = text.ToString(0, 1500);
        var ids = added.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => vocabulary.Count + p.i);
        tokenizer.Encode(sample, int.MaxValue).Should().Equal([2, .. LeftmostLongest(sample, ids, s => plain.Encode(s, int.MaxValue).Skip(1).SkipLast(1)), 3]);
    }

    private static void LoadAndEncode(string path, bool wordPiece)
    {
        string[] texts = ["Hello world, [CLS] this is a test.", "<s> hé <mask> 1234 ✓", ""];
        ITextTokenizer tokenizer = wordPiece ? BertTextTokenizer.FromTokenizerJson(path) : RobertaTextTokenizer.FromTokenizerJson(path);
        var batch = tokenizer.Encode(texts, 64);
        batch.InputIds.Should().OnlyContain(id => id >= 0 && id < tokenizer.VocabularySize, "ids must lie inside the vocabulary");
        batch.TokenTypeIds.Should().OnlyContain(id => id >= 0 && id < 1024);
        batch.SequenceLength.Should().BeLessThanOrEqualTo(1 << 16);
    }

    // Null when the action ended (or threw nothing) in time; the exception it threw otherwise.
    private static Exception? WithinHangLimit(Action action)
    {
        var task = Task.Run(action);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(HangLimit)) throw new TimeoutException($"still running after {HangLimit.TotalSeconds} s");
        return task.Exception?.InnerException;
    }

    // The definition: the longest vocabulary prefix, then the longest "##" continuation, …; one miss makes the word [UNK].
    private static List<int> GreedyWordPiece(string word, Dictionary<string, int> vocabulary)
    {
        var ids = new List<int>();
        for (var start = 0; start < word.Length;)
        {
            var end = word.Length;
            while (end > start && !vocabulary.ContainsKey((start > 0 ? "##" : "") + word[start..end])) end--;
            if (end == start) return [vocabulary["[UNK]"]];
            ids.Add(vocabulary[(start > 0 ? "##" : "") + word[start..end]]);
            start = end;
        }

        return ids;
    }

    // The definition: at each position the longest added token starting there, else one more plain character.
    private static List<int> LeftmostLongest(string text, Dictionary<string, int> tokens, Func<string, IEnumerable<int>> plain)
    {
        var ids = new List<int>();
        var segment = 0;
        for (var i = 0; i < text.Length;)
        {
            var match = tokens.Keys.Where(t => string.CompareOrdinal(text, i, t, 0, t.Length) == 0 && i + t.Length <= text.Length).MaxBy(t => t.Length);
            if (match is null)
            {
                i++;
                continue;
            }

            if (i > segment) ids.AddRange(plain(text[segment..i]));
            ids.Add(tokens[match]);
            segment = i += match.Length;
        }

        if (segment < text.Length) ids.AddRange(plain(text[segment..]));
        return ids;
    }

    private static Dictionary<string, object?> WordPieceJson(Dictionary<string, int> vocabulary, int maxChars, IReadOnlyList<string> added) => new()
    {
        ["version"] = "1.0",
        ["added_tokens"] = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]" }
            .Select(t => new Dictionary<string, object> { ["id"] = vocabulary[t], ["content"] = t, ["normalized"] = false, ["special"] = true })
            .Concat(added.Select((t, i) => new Dictionary<string, object> { ["id"] = vocabulary.Count + i, ["content"] = t, ["normalized"] = false, ["special"] = false })),
        ["normalizer"] = new Dictionary<string, object> { ["type"] = "BertNormalizer", ["lowercase"] = true },
        ["pre_tokenizer"] = new Dictionary<string, object> { ["type"] = "BertPreTokenizer" },
        ["post_processor"] = new Dictionary<string, object> { ["type"] = "BertProcessing", ["sep"] = new object[] { "[SEP]", 3 }, ["cls"] = new object[] { "[CLS]", 2 } },
        ["model"] = new Dictionary<string, object> { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["max_input_chars_per_word"] = maxChars, ["vocab"] = vocabulary },
    };
}
