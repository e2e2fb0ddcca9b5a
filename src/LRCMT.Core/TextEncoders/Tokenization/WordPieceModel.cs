namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>WordPiece</c> model: greedy longest-match-first over the vocabulary, pieces after the first carry the
/// continuation prefix (<c>##</c>); a word longer than <see cref="MaxInputCharsPerWord"/> code points, or one with a part
/// no vocabulary entry matches, becomes the unknown token as a whole.
/// A whole word is one span lookup in the vocabulary (most words are in it); otherwise each piece is the longest prefix
/// found by walking a trie of the word-initial tokens, or of the continuation tokens without their prefix. A walk stops
/// where the trie ends, so a word costs at most its length × the longest token's length, whatever
/// <see cref="MaxInputCharsPerWord"/> is, and no string is built per candidate.
/// </summary>
internal sealed class WordPieceModel : ITokenModel
{
    private readonly Dictionary<string, int> vocabulary;
    private TokenStrings? tokenStrings;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly CharTrie initialPieces = new();
    private readonly CharTrie continuingPieces = new();
    private readonly int unknownId;

    public WordPieceModel(Dictionary<string, int> vocabulary, string unknownToken, string continuingSubwordPrefix, int maxInputCharsPerWord)
    {
        this.vocabulary = vocabulary;
        lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownToken = unknownToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        unknownId = vocabulary.TryGetValue(unknownToken, out var id)
            ? id
            : throw new ArgumentException($"the unknown token '{unknownToken}' is not in the vocabulary.", nameof(unknownToken));
        VocabularySize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        foreach (var (token, tokenId) in vocabulary)
        {
            if (token.Length == 0) continue;
            initialPieces.SetValue(initialPieces.Insert(token), tokenId);
            if (token.Length > continuingSubwordPrefix.Length && token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
                continuingPieces.SetValue(continuingPieces.Insert(token.AsSpan(continuingSubwordPrefix.Length)), tokenId);
        }
    }

    public string UnknownToken { get; }

    public string ContinuingSubwordPrefix { get; }

    public int MaxInputCharsPerWord { get; }

    public int VocabularySize { get; }

    public int TokenCount => vocabulary.Count;

    public int? TokenToId(string token) => vocabulary.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => (tokenStrings ??= new TokenStrings(vocabulary)).Of(id);

    public void Tokenize(ReadOnlySpan<char> word, List<int> ids)
    {
        if (word.IsEmpty) return;
        if (word.Length > MaxInputCharsPerWord && CodePointCount(word) > MaxInputCharsPerWord)
        {
            ids.Add(unknownId);
            return;
        }

        if (lookup.TryGetValue(word, out var whole))
        {
            ids.Add(whole);
            return;
        }

        var firstPiece = ids.Count;
        var start = 0;
        while (start < word.Length)
        {
            var id = (start == 0 ? initialPieces : continuingPieces).LongestPrefix(word[start..], out var length);
            if (id < 0)
            {
                ids.RemoveRange(firstPiece, ids.Count - firstPiece);
                ids.Add(unknownId);
                return;
            }

            ids.Add(id);
            start += length;
        }
    }

    private static int CodePointCount(ReadOnlySpan<char> word)
    {
        var count = word.Length;
        for (var i = 0; i + 1 < word.Length; i++)
            if (char.IsHighSurrogate(word[i]) && char.IsLowSurrogate(word[i + 1]))
            {
                count--;
                i++;
            }

        return count;
    }
}
