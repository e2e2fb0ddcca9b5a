using LRCMT.Errors;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>BPE</c> model over byte-level words: a word starts as its characters' ids (a character the
/// vocabulary lacks is dropped, as Hugging Face does without an <c>unk_token</c>), and the adjacent pair with the lowest
/// merge rank is merged, leftmost first, until no ranked pair is left; a priority queue of candidate pairs makes a word
/// of n characters cost O(n log n), so a long word without spaces cannot stall it. Results are cached per word.
/// </summary>
internal sealed class ByteLevelBpeModel : ITokenModel
{
    private const int CacheCapacity = 10_000;
    private readonly Dictionary<string, int> vocabulary;
    private TokenStrings? tokenStrings;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private readonly Dictionary<long, (int Rank, int Merged)> merges = new();
    private readonly Dictionary<string, int[]> cache = new();
    private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheLookup;
    private readonly Lock cacheLock = new();

    public ByteLevelBpeModel(Dictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, string source)
    {
        this.vocabulary = vocabulary;
        lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        cacheLookup = cache.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocabulary.TryGetValue(left, out var leftId) || !vocabulary.TryGetValue(right, out var rightId))
                throw new CorruptFileException(source, null, $"merge {rank} ('{left}' '{right}') joins '{(vocabulary.ContainsKey(left) ? right : left)}', which is not in the vocabulary.");
            if (!vocabulary.TryGetValue(left + right, out var merged))
                throw new CorruptFileException(source, null, $"merge {rank} ('{left}' '{right}') makes '{left + right}', which is not in the vocabulary.");
            this.merges[Pair(leftId, rightId)] = (rank, merged); // a repeated pair keeps its last rank, as Hugging Face's map does
        }

        VocabularySize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
    }

    public int VocabularySize { get; }

    public int TokenCount => vocabulary.Count;

    public int? TokenToId(string token) => vocabulary.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => (tokenStrings ??= new TokenStrings(vocabulary)).Of(id);

    public void Tokenize(ReadOnlySpan<char> word, List<int> ids)
    {
        int[]? cached;
        lock (cacheLock) cacheLookup.TryGetValue(word, out cached);
        if (cached is null)
        {
            cached = Merge(word);
            lock (cacheLock)
            {
                if (cache.Count >= CacheCapacity) cache.Clear();
                cacheLookup[word] = cached;
            }
        }

        ids.AddRange(cached);
    }

    private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

    private int[] Merge(ReadOnlySpan<char> word)
    {
        // Symbols as a doubly linked list over the characters; id −1 marks a removed (merged-away) symbol.
        var n = word.Length;
        var symbols = new int[n];
        var next = new int[n];
        var previous = new int[n];
        var count = 0;
        foreach (var c in word)
        {
            if (!lookup.TryGetValue(new ReadOnlySpan<char>(in c), out var id)) continue;
            symbols[count] = id;
            previous[count] = count - 1;
            next[count] = count + 1;
            count++;
        }

        if (count == 0) return [];
        next[count - 1] = -1;
        var queue = new PriorityQueue<(int Position, int Merged), (int Rank, int Position)>();
        for (var i = 0; i + 1 < count; i++) Enqueue(queue, symbols, i, i + 1);
        while (queue.TryDequeue(out var top, out var priority))
        {
            var (position, merged) = top;
            var right = next[position];
            if (symbols[position] < 0 || right < 0) continue;
            // A stale entry: the pair at this position changed since it was queued.
            if (!merges.TryGetValue(Pair(symbols[position], symbols[right]), out var current) || current.Merged != merged || current.Rank != priority.Rank) continue;
            symbols[position] = merged;
            symbols[right] = -1;
            next[position] = next[right];
            if (next[right] >= 0) previous[next[right]] = position;
            if (previous[position] >= 0) Enqueue(queue, symbols, previous[position], position);
            if (next[position] >= 0) Enqueue(queue, symbols, position, next[position]);
        }

        var result = new List<int>(count);
        for (var i = 0; i >= 0 && i < count; i = next[i]) result.Add(symbols[i]);
        return [.. result];
    }

    private void Enqueue(PriorityQueue<(int, int), (int, int)> queue, int[] symbols, int left, int right)
    {
        if (merges.TryGetValue(Pair(symbols[left], symbols[right]), out var merge)) queue.Enqueue((left, merge.Merged), (merge.Rank, left));
    }
}
