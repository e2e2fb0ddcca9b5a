using LRCMT.Errors;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>BPE</c> model over byte-level words: a word starts as its characters, and the adjacent pair with
/// the lowest merge rank is merged (every occurrence, left to right) until no ranked pair is left; each final piece is
/// looked up in the vocabulary. Results are cached per word.
/// </summary>
internal sealed class ByteLevelBpeModel : ITokenModel
{
    private const int CacheCapacity = 10_000;
    private readonly Dictionary<string, int> vocabulary;
    private readonly Dictionary<(string, string), int> ranks = new();
    private readonly Dictionary<string, int[]> cache = new();

    public ByteLevelBpeModel(Dictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, string source)
    {
        this.vocabulary = vocabulary;
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocabulary.ContainsKey(left + right))
                throw new CorruptFileException(source, null, $"merge {rank} ('{left}' '{right}') makes '{left + right}', which is not in the vocabulary.");
            ranks.TryAdd((left, right), rank);
        }

        VocabularySize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
    }

    public int VocabularySize { get; }

    public int TokenCount => vocabulary.Count;

    public int? TokenToId(string token) => vocabulary.TryGetValue(token, out var id) ? id : null;

    public void Tokenize(string word, List<int> ids)
    {
        if (!cache.TryGetValue(word, out var cached))
        {
            cached = Merge(word);
            if (cache.Count >= CacheCapacity) cache.Clear();
            cache[word] = cached;
        }

        ids.AddRange(cached);
    }

    private int[] Merge(string word)
    {
        var pieces = word.Select(c => c.ToString()).ToList();
        while (pieces.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i + 1 < pieces.Count; i++)
            {
                if (ranks.TryGetValue((pieces[i], pieces[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }

            if (best < 0) break;
            var (left, right) = (pieces[best], pieces[best + 1]);
            var merged = new List<string>(pieces.Count);
            for (var i = 0; i < pieces.Count; i++)
            {
                if (i + 1 < pieces.Count && pieces[i] == left && pieces[i + 1] == right)
                {
                    merged.Add(left + right);
                    i++;
                }
                else
                {
                    merged.Add(pieces[i]);
                }
            }

            pieces = merged;
        }

        // A piece the vocabulary lacks is dropped, as Hugging Face's BPE does without an unk_token; with the full
        // byte alphabet in the vocabulary (every byte-level BPE has it) this never happens.
        return pieces.Where(vocabulary.ContainsKey).Select(p => vocabulary[p]).ToArray();
    }
}
