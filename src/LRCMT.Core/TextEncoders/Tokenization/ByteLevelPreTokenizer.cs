using System.Globalization;
using System.Text;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>ByteLevel</c> pre-tokenizer (GPT-2, RoBERTa): an optional leading space, the GPT-2 split
/// (contractions, letter runs, digit runs, other-symbol runs, each with one optional leading space; whitespace runs
/// that leave the last space to the next word), then every UTF-8 byte of a word written as one printable character.
/// The split is done by code point, so letters outside the Basic Multilingual Plane count as letters. Code points,
/// bytes and the mapped word live in reused per-thread buffers; the model gets each word as a span.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace) : IPreTokenizer
{
    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];
    // Byte value to the character GPT-2 writes it as.
    private static readonly char[] ByteChars = BuildByteToChar();

    [ThreadStatic]
    private static Scratch? scratch;

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public void Tokenize(ReadOnlySpan<char> text, ITokenModel model, List<int> ids)
    {
        var work = scratch ??= new Scratch();
        var points = work.Points;
        points.Clear();
        if (AddPrefixSpace && (text.IsEmpty || text[0] != ' ')) points.Add(' ');
        for (var k = 0; k < text.Length; k++)
        {
            if (char.IsHighSurrogate(text[k]) && k + 1 < text.Length && char.IsLowSurrogate(text[k + 1])) points.Add(char.ConvertToUtf32(text[k], text[++k]));
            else points.Add(text[k]);
        }

        var i = 0;
        while (i < points.Count)
        {
            var end = MatchAt(points, i);
            model.Tokenize(work.Mapped(points, i, end), ids);
            i = end;
        }
    }

    // One GPT-2 regex match at i: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    private static int MatchAt(List<int> cps, int i)
    {
        if (cps[i] == '\'')
            foreach (var c in Contractions)
                if (Follows(cps, i + 1, c)) return i + 1 + c.Length;

        var body = cps[i] == ' ' && i + 1 < cps.Count ? i + 1 : i;
        var kind = Classify(cps[body]);
        if (kind != Kind.Space)
        {
            var end = body;
            while (end < cps.Count && Classify(cps[end]) == kind) end++;
            return end;
        }

        // Whitespace run; when a non-space follows, its last character is left to the next match.
        var run = i;
        while (run < cps.Count && UnicodeText.IsWhitespace(cps[run])) run++;
        if (run == cps.Count || run - i == 1) return run;
        return run - 1;
    }

    private static bool Follows(List<int> cps, int at, string letters)
    {
        if (at + letters.Length > cps.Count) return false;
        for (var k = 0; k < letters.Length; k++)
            if (cps[at + k] != letters[k]) return false;
        return true;
    }

    private enum Kind
    {
        Letter,
        Number,
        Other,
        Space,
    }

    private static Kind Classify(int c)
    {
        if (c < 128)
            return c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' ? Kind.Letter
                : c is >= '0' and <= '9' ? Kind.Number
                : UnicodeText.IsWhitespace(c) ? Kind.Space : Kind.Other;
        if (UnicodeText.IsWhitespace(c)) return Kind.Space;
        if (c is >= 0xD800 and <= 0xDFFF) return Kind.Other;
        return CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    // Printable Latin-1 bytes stand for themselves; the others (controls, space, DEL, NBSP, soft hyphen) are moved to U+0100 onwards.
    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
            map[b] = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255 ? (char)b : (char)next++;
        return map;
    }

    /// <summary>Buffers one thread reuses across calls.</summary>
    private sealed class Scratch
    {
        private char[] mapped = new char[256];

        public List<int> Points { get; } = new(256);

        /// <summary>The UTF-8 bytes of code points [start, end), each written as its GPT-2 character.</summary>
        public ReadOnlySpan<char> Mapped(List<int> points, int start, int end)
        {
            if (mapped.Length < (end - start) * 4) mapped = new char[(end - start) * 4];
            var length = 0;
            Span<byte> bytes = stackalloc byte[4];
            for (var k = start; k < end; k++)
            {
                var c = points[k];
                // A lone surrogate has no UTF-8 form; it is written as U+FFFD, as a UTF-8 conversion of the text would.
                var rune = Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar;
                var count = rune.EncodeToUtf8(bytes);
                for (var b = 0; b < count; b++) mapped[length++] = ByteChars[bytes[b]];
            }

            return mapped.AsSpan(0, length);
        }
    }
}
