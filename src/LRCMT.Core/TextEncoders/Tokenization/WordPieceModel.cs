namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>WordPiece</c> model: greedy longest-match-first over the vocabulary, pieces after the first carry the
/// continuation prefix (<c>##</c>); a word longer than <see cref="MaxInputCharsPerWord"/> code points, or one with a part
/// no vocabulary entry matches, becomes the unknown token as a whole.
/// </summary>
internal sealed class WordPieceModel : ITokenModel
{
    private readonly Dictionary<string, int> vocabulary;
    private readonly int unknownId;

    public WordPieceModel(Dictionary<string, int> vocabulary, string unknownToken, string continuingSubwordPrefix, int maxInputCharsPerWord)
    {
        this.vocabulary = vocabulary;
        UnknownToken = unknownToken;
        ContinuingSubwordPrefix = continuingSubwordPrefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        unknownId = vocabulary.TryGetValue(unknownToken, out var id)
            ? id
            : throw new ArgumentException($"the unknown token '{unknownToken}' is not in the vocabulary.", nameof(unknownToken));
        VocabularySize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
    }

    public string UnknownToken { get; }

    public string ContinuingSubwordPrefix { get; }

    public int MaxInputCharsPerWord { get; }

    public int VocabularySize { get; }

    public int TokenCount => vocabulary.Count;

    public int? TokenToId(string token) => vocabulary.TryGetValue(token, out var id) ? id : null;

    public void Tokenize(string word, List<int> ids)
    {
        if (CodePointCount(word) > MaxInputCharsPerWord)
        {
            ids.Add(unknownId);
            return;
        }

        var firstPiece = ids.Count;
        var lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        var start = 0;
        while (start < word.Length)
        {
            int? found = null;
            var end = word.Length;
            for (; end > start; end = PreviousBoundary(word, end))
            {
                var piece = word.AsSpan(start, end - start);
                var hit = start == 0 ? lookup.TryGetValue(piece, out var id) : lookup.TryGetValue(ContinuingSubwordPrefix + piece.ToString(), out id);
                if (!hit) continue;
                found = id;
                break;
            }

            if (found is null)
            {
                ids.RemoveRange(firstPiece, ids.Count - firstPiece);
                ids.Add(unknownId);
                return;
            }

            ids.Add(found.Value);
            start = end;
        }
    }

    private static int PreviousBoundary(string word, int end) =>
        end >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? end - 2 : end - 1;

    private static int CodePointCount(string word)
    {
        var count = 0;
        for (var i = 0; i < word.Length; i++)
        {
            if (char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1])) i++;
            count++;
        }

        return count;
    }
}
