using System.Globalization;
using System.Text;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>ByteLevel</c> pre-tokenizer (GPT-2, RoBERTa): an optional leading space, the GPT-2 split
/// (contractions, letter runs, digit runs, other-symbol runs, each with one optional leading space; whitespace runs
/// that leave the last space to the next word), then every UTF-8 byte of a word written as one printable character.
/// The split is done by code point, so letters outside the Basic Multilingual Plane count as letters.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace) : IPreTokenizer
{
    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    /// <summary>Byte value to the character GPT-2 writes it as.</summary>
    public static IReadOnlyList<char> ByteToChar { get; } = BuildByteToChar();

    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public void Split(string text, List<string> words)
    {
        if (AddPrefixSpace && !text.StartsWith(' ')) text = " " + text;
        var cps = UnicodeText.CodePoints(text);
        var i = 0;
        while (i < cps.Count)
        {
            var end = MatchAt(cps, i);
            words.Add(ToBytes(cps, i, end));
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
        foreach (var kind in new[] { Kind.Letter, Kind.Number, Kind.Other })
        {
            if (Classify(cps[body]) != kind) continue;
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

    private static string ToBytes(List<int> cps, int start, int end)
    {
        var text = new StringBuilder();
        for (var k = start; k < end; k++) UnicodeText.AppendCodePoint(text, cps[k]);
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var mapped = new char[bytes.Length];
        for (var k = 0; k < bytes.Length; k++) mapped[k] = ByteToChar[bytes[k]];
        return new string(mapped);
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
}
