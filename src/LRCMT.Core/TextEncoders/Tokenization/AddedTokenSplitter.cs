using System.Buffers;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Finds added tokens in text, leftmost match first and the longest token at a position, as Hugging Face's
/// <c>AddedVocabulary</c> does (Aho–Corasick, leftmost-longest); whitespace around a match is absorbed where the token
/// asks for it. Usually the text is scanned (vectorized) for the characters a token can start with and a trie of the
/// tokens is walked from each; those walks are charged to a budget of a few steps per character, and text that would
/// exceed it (many long, overlapping tokens) is matched instead in linear time whatever the number and length of the
/// tokens: an Aho–Corasick automaton of the <em>reversed</em> tokens, run once from the end of the text, gives at every
/// position the longest token starting there (the deepest token among the current state's suffixes, precomputed per
/// state); a left-to-right pass then takes the leftmost match, skips past it, and so on.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken?[] tokenAtNode;
    private readonly CharTrie trie = new();
    private readonly int[] failure;
    private readonly int[] longestToken;
    private readonly SearchValues<char> firstChars;
    private readonly CharTrie forward = new();
    private readonly AddedToken[] forwardTokens;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        var list = tokens.Where(t => t.Content.Length > 0).ToList();
        IsEmpty = list.Count == 0;
        var byNode = new Dictionary<int, AddedToken>();
        foreach (var token in list)
        {
            var reversed = token.Content.ToCharArray();
            Array.Reverse(reversed);
            var node = trie.Insert(reversed);
            byNode.TryAdd(node, token); // the first of two equal contents wins, as Hugging Face keeps the first
        }

        tokenAtNode = new AddedToken?[trie.NodeCount];
        foreach (var (node, token) in byNode) tokenAtNode[node] = token;
        (failure, longestToken) = BuildAutomaton(list);
        firstChars = SearchValues.Create(list.Select(t => t.Content[0]).Distinct().ToArray());
        forwardTokens = [.. list];
        for (var k = list.Count - 1; k >= 0; k--) forward.SetValue(forward.Insert(list[k].Content), k); // the first of equal contents wins
    }

    public bool IsEmpty { get; }

    /// <summary>Splits <paramref name="text"/> into plain segments (<c>Id</c> null) and matched tokens (<c>Length</c> 0).</summary>
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length, int? Id)> output)
    {
        var first = IsEmpty ? -1 : text.IndexOfAny(firstChars);
        if (first < 0)
        {
            if (text.Length > 0) output.Add((0, text.Length, null));
            return;
        }

        var count = output.Count;
        if (TrySplitByWalks(text, first, output)) return;
        output.RemoveRange(count, output.Count - count);
        SplitByAutomaton(text, output);
    }

    private bool TrySplitByWalks(ReadOnlySpan<char> text, int first, List<(int Start, int Length, int? Id)> output)
    {
        var budget = 4L * text.Length + 256;
        var segmentStart = 0;
        var i = first;
        while (i < text.Length)
        {
            var index = forward.LongestPrefix(text[i..], out _, ref budget);
            if (budget < 0) return false;
            if (index >= 0) i = Emit(text, i, forwardTokens[index], ref segmentStart, output);
            else i++;
            var next = i < text.Length ? text[i..].IndexOfAny(firstChars) : -1;
            if (next < 0) break;
            i += next;
        }

        if (segmentStart < text.Length) output.Add((segmentStart, text.Length - segmentStart, null));
        return true;
    }

    private void SplitByAutomaton(ReadOnlySpan<char> text, List<(int Start, int Length, int? Id)> output)
    {
        var longest = ArrayPool<int>.Shared.Rent(text.Length);
        try
        {
            LongestTokenStartingAt(text, longest);
            var segmentStart = 0;
            var i = 0;
            while (i < text.Length)
            {
                var node = longest[i];
                if (node <= 0) i++;
                else i = Emit(text, i, tokenAtNode[node]!, ref segmentStart, output);
            }

            if (segmentStart < text.Length) output.Add((segmentStart, text.Length - segmentStart, null));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(longest);
        }
    }

    // A match of token at i: the plain text before it (less what lstrip takes), the token; returns where to go on.
    private static int Emit(ReadOnlySpan<char> text, int i, AddedToken token, ref int segmentStart, List<(int Start, int Length, int? Id)> output)
    {
        var start = i;
        if (token.LeftStrip)
            while (start > segmentStart && UnicodeText.IsWhitespace(text[start - 1])) start--;
        var end = i + token.Content.Length;
        if (token.RightStrip)
            while (end < text.Length && UnicodeText.IsWhitespace(text[end])) end++;
        if (start > segmentStart) output.Add((segmentStart, start - segmentStart, null));
        output.Add((start, 0, token.Id));
        segmentStart = end;
        return end;
    }

    // For each i, the trie node of the longest token that starts at i (0 when none), from one right-to-left run.
    private void LongestTokenStartingAt(ReadOnlySpan<char> text, int[] longest)
    {
        var state = CharTrie.Root;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            var c = text[i];
            int next;
            while ((next = trie.Child(state, c)) < 0 && state != CharTrie.Root) state = failure[state];
            state = next < 0 ? CharTrie.Root : next;
            longest[i] = longestToken[state];
        }
    }

    // Breadth-first: failure links (longest proper suffix that is a trie node) and, per state, the deepest token that is
    // a suffix of it (itself, or its failure state's).
    private (int[] Failure, int[] Longest) BuildAutomaton(List<AddedToken> tokens)
    {
        var count = trie.NodeCount;
        var fail = new int[count];
        var longest = new int[count];
        var parent = new int[count];
        var via = new char[count];
        // Children of each node, found once from the reversed tokens.
        var childLists = new List<int>?[count];
        var seen = new bool[count];
        foreach (var token in tokens)
        {
            var node = CharTrie.Root;
            for (var k = token.Content.Length - 1; k >= 0; k--)
            {
                var child = trie.Child(node, token.Content[k]);
                if (!seen[child])
                {
                    seen[child] = true;
                    (childLists[node] ??= []).Add(child);
                    parent[child] = node;
                    via[child] = token.Content[k];
                }

                node = child;
            }
        }

        var queue = new Queue<int>();
        queue.Enqueue(CharTrie.Root);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node != CharTrie.Root && parent[node] != CharTrie.Root)
            {
                var f = fail[parent[node]];
                int next;
                while ((next = trie.Child(f, via[node])) < 0 && f != CharTrie.Root) f = fail[f];
                fail[node] = next < 0 ? CharTrie.Root : next;
            }

            longest[node] = tokenAtNode[node] is not null ? node : node == CharTrie.Root ? 0 : longest[fail[node]];
            if (childLists[node] is { } children)
                foreach (var child in children) queue.Enqueue(child);
        }

        return (fail, longest);
    }
}
