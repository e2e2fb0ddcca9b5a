namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>BertPreTokenizer</c>: words are separated by whitespace (removed), and every punctuation character
/// (<see cref="UnicodeText.IsBertPunctuation"/>) becomes a word of its own. Given the <see cref="BertNormalizer"/>, it
/// also normalizes in the same single pass (what Hugging Face does in two): ASCII characters through a 128-entry table
/// built from the normalizer and the splitter themselves, so the fast path cannot disagree with them; each run of other
/// characters through the normalizer, exactly. Runs are cut only at ASCII characters that survive cleaning, which are
/// starters that no normalization step reaches across, so normalizing run by run equals normalizing the whole text.
/// A run of ASCII word characters the normalizer leaves as they are (lower-case letters and digits, typically) is found
/// by one vectorized search and handed to the model as a slice of the text itself; other words are assembled in a
/// reused per-thread buffer. No string is made per word.
/// </summary>
internal sealed class BertPreTokenizer : IPreTokenizer
{
    private const byte Word = 0, Space = 1, Punctuation = 2, Removed = 3;
    private readonly BertNormalizer? normalizer;
    private readonly byte[] asciiKind = new byte[128];
    private readonly char[] asciiChar = new char[128];
    private readonly System.Buffers.SearchValues<char> unchangedWordChars;

    [ThreadStatic]
    private static Scratch? scratch;

    public BertPreTokenizer(BertNormalizer? normalizer = null)
    {
        this.normalizer = normalizer;
        for (var c = 0; c < 128; c++)
        {
            var normalized = normalizer?.Normalize(((char)c).ToString()) ?? ((char)c).ToString();
            if (normalized.Length > 1) throw new InvalidOperationException($"the normalizer maps ASCII {c} to {normalized.Length} characters.");
            asciiKind[c] = normalized.Length == 0 ? Removed
                : UnicodeText.IsWhitespace(normalized[0]) ? Space
                : UnicodeText.IsBertPunctuation(normalized[0]) ? Punctuation : Word;
            asciiChar[c] = normalized.Length == 0 ? '\0' : normalized[0];
        }

        unchangedWordChars = System.Buffers.SearchValues.Create(
            Enumerable.Range(0, 128).Where(c => asciiKind[c] == Word && asciiChar[c] == c).Select(c => (char)c).ToArray());
    }

    public void Tokenize(ReadOnlySpan<char> text, ITokenModel model, List<int> ids)
    {
        var work = scratch ??= new Scratch();
        var word = work.Word(text.Length);
        var length = 0;
        var kinds = asciiKind;
        var chars = asciiChar;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c < 128)
            {
                if (kinds[c] == Word && chars[c] == c)
                {
                    // A run of characters that stay as they are: one vectorized search for its end.
                    var run = text[i..].IndexOfAnyExcept(unchangedWordChars);
                    if (run < 0) run = text.Length - i;
                    var after = i + run;
                    if (length == 0 && (after == text.Length || text[after] < 128 && kinds[text[after]] is Space or Punctuation))
                    {
                        model.Tokenize(text.Slice(i, run), ids);
                    }
                    else
                    {
                        text.Slice(i, run).CopyTo(word.AsSpan(length));
                        length += run;
                    }

                    i = after;
                    continue;
                }

                switch (kinds[c])
                {
                    case Word:
                        word[length++] = chars[c];
                        break;
                    case Space:
                        if (length > 0) model.Tokenize(word.AsSpan(0, length), ids);
                        length = 0;
                        break;
                    case Punctuation:
                        if (length > 0) model.Tokenize(word.AsSpan(0, length), ids);
                        length = 0;
                        model.Tokenize(chars.AsSpan(c, 1), ids);
                        break;
                }

                i++;
                continue;
            }

            // A run of non-ASCII characters (and ASCII ones cleaning removes, which must not separate combining marks).
            var end = i + 1;
            while (end < text.Length && (text[end] >= 128 || kinds[text[end]] == Removed)) end++;
            var points = work.Points;
            if (normalizer is null) UnicodeText.CodePointsInto(text[i..end], points);
            else normalizer.NormalizeInto(text[i..end], points, work.Other);
            word = work.Word(length + 2 * points.Count + (text.Length - end), length);
            foreach (var point in points)
            {
                if (UnicodeText.IsWhitespace(point))
                {
                    if (length > 0) model.Tokenize(word.AsSpan(0, length), ids);
                    length = 0;
                }
                else if (UnicodeText.IsBertPunctuation(point))
                {
                    if (length > 0) model.Tokenize(word.AsSpan(0, length), ids);
                    length = 0;
                    var single = work.Single;
                    model.Tokenize(single.AsSpan(0, UnicodeText.WriteCodePoint(point, single)), ids);
                }
                else
                {
                    length += UnicodeText.WriteCodePoint(point, word.AsSpan(length));
                }
            }

            i = end;
        }

        if (length > 0) model.Tokenize(word.AsSpan(0, length), ids);
    }

    /// <summary>Buffers one thread reuses across calls.</summary>
    private sealed class Scratch
    {
        private char[] word = new char[256];

        public List<int> Points { get; } = new(64);

        public List<int> Other { get; } = new(64);

        public char[] Single { get; } = new char[2];

        /// <summary>The word buffer with room for <paramref name="capacity"/> chars, keeping its first <paramref name="keep"/>.</summary>
        public char[] Word(int capacity, int keep = 0)
        {
            if (word.Length < capacity)
            {
                var grown = new char[Math.Max(capacity, word.Length * 2)];
                word.AsSpan(0, keep).CopyTo(grown);
                word = grown;
            }

            return word;
        }
    }
}
