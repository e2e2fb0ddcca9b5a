using System.Numerics;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// A trie over UTF-16 code units with one int value per node (−1 for none). Edges live in one open-addressing hash
/// table keyed by (node, char), so a vocabulary of any alphabet costs a few words per character of its tokens and a
/// step is one multiply, one probe and one compare.
/// </summary>
internal sealed class CharTrie
{
    private const long Empty = -1;
    private long[] keys = [Empty, Empty, Empty, Empty];
    private int[] children = new int[4];
    private int edges;
    private int[] values = [-1];
    private int nodes = 1;

    /// <summary>The root node (the empty string).</summary>
    public const int Root = 0;

    public int NodeCount => nodes;

    /// <summary>The node of <paramref name="key"/>, created with its path where missing.</summary>
    public int Insert(ReadOnlySpan<char> key)
    {
        var node = Root;
        foreach (var c in key)
        {
            var next = Child(node, c);
            if (next < 0)
            {
                next = NewNode();
                AddEdge(node, c, next);
            }

            node = next;
        }

        return node;
    }

    /// <summary>The value stored at <paramref name="node"/>, −1 when none.</summary>
    public int Value(int node) => values[node];

    public void SetValue(int node, int value) => values[node] = value;

    /// <summary>The child of <paramref name="node"/> along <paramref name="c"/>, −1 when there is none.</summary>
    public int Child(int node, char c)
    {
        var key = ((long)node << 16) | c;
        var mask = keys.Length - 1;
        for (var slot = Slot(key, mask); ; slot = (slot + 1) & mask)
        {
            var stored = keys[slot];
            if (stored == key) return children[slot];
            if (stored == Empty) return -1;
        }
    }

    /// <summary>
    /// The value of the longest prefix of <paramref name="text"/> that has one, and that prefix's length; (−1, 0) when
    /// no prefix has a value. Walks at most as far as the trie is deep.
    /// </summary>
    public int LongestPrefix(ReadOnlySpan<char> text, out int length)
    {
        var node = Root;
        var best = -1;
        length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            node = Child(node, text[i]);
            if (node < 0) break;
            if (values[node] >= 0)
            {
                best = values[node];
                length = i + 1;
            }
        }

        return best;
    }

    /// <summary>
    /// <see cref="LongestPrefix(ReadOnlySpan{char}, out int)"/> that charges each step to <paramref name="budget"/>, so a
    /// caller can bound the total work of many walks and switch to a linear method when they would cost too much.
    /// </summary>
    public int LongestPrefix(ReadOnlySpan<char> text, out int length, ref long budget)
    {
        var node = Root;
        var best = -1;
        length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            budget--;
            node = Child(node, text[i]);
            if (node < 0) break;
            if (values[node] >= 0)
            {
                best = values[node];
                length = i + 1;
            }
        }

        return best;
    }

    private static int Slot(long key, int mask) => (int)((ulong)(key * -7046029254386353131L) >> 32) & mask;

    private int NewNode()
    {
        if (nodes == values.Length)
        {
            var grown = new int[values.Length * 2];
            Array.Fill(grown, -1, values.Length, values.Length);
            values.CopyTo(grown, 0);
            values = grown;
        }

        values[nodes] = -1;
        return nodes++;
    }

    private void AddEdge(int node, char c, int child)
    {
        if ((edges + 1) * 2 > keys.Length) Grow();
        Place(((long)node << 16) | c, child);
        edges++;
    }

    private void Place(long key, int child)
    {
        var mask = keys.Length - 1;
        var slot = Slot(key, mask);
        while (keys[slot] != Empty) slot = (slot + 1) & mask;
        keys[slot] = key;
        children[slot] = child;
    }

    private void Grow()
    {
        var (oldKeys, oldChildren) = (keys, children);
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)oldKeys.Length * 2);
        keys = new long[size];
        Array.Fill(keys, Empty);
        children = new int[size];
        for (var i = 0; i < oldKeys.Length; i++)
            if (oldKeys[i] != Empty) Place(oldKeys[i], oldChildren[i]);
    }
}
