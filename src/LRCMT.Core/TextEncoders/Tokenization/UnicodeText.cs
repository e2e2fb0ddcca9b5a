using System.Text;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// The character classes and transforms of Hugging Face's BERT pipeline, independent of ICU and of the host's
/// globalization mode, all from the generated <see cref="UnicodeTables"/>: decompositions and lower-case mappings, and
/// the general categories as HF's tokenizers see them (Unicode 8.0: later code points are unassigned there, so they
/// are neither stripped, split off nor removed, whatever the runtime's own Unicode version says).
/// Text is handled by code point (<see cref="Rune"/>), so surrogate pairs are never split.
/// </summary>
internal static class UnicodeText
{
    private const int HangulFirst = 0xAC00, HangulLast = 0xD7A3, JamoL = 0x1100, JamoV = 0x1161, JamoT = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28;

    private static readonly Dictionary<int, int[]> Decompositions = Unpack(UnicodeTables.Decompositions);
    private static readonly Dictionary<int, int[]> LowerCases = Unpack(UnicodeTables.LowerCase);
    private static readonly Dictionary<int, int> CombiningClasses =
        Unpack(UnicodeTables.CombiningClasses).ToDictionary(p => p.Key, p => p.Value[0]);

    private static readonly int[] NonSpacingMarks = UnicodeTables.NonSpacingMarks.ToArray();
    private static readonly int[] Punctuation = UnicodeTables.Punctuation.ToArray();
    private static readonly int[] ControlFormatPrivate = UnicodeTables.ControlFormatPrivate.ToArray();

    /// <summary>Unicode's White_Space property (what Rust's <c>char::is_whitespace</c> tests).</summary>
    public static bool IsWhitespace(int c) => c switch
    {
        >= 0x9 and <= 0xD or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Control, format, private-use and surrogate code points (categories Cc, Cf, Co, Cs); unassigned ones are kept.</summary>
    public static bool IsOther(int c) => c is >= 0xD800 and <= 0xDFFF || InRanges(ControlFormatPrivate, c);

    /// <summary>A non-spacing mark (category Mn), what accent stripping removes after decomposition.</summary>
    public static bool IsNonSpacingMark(int c) => InRanges(NonSpacingMarks, c);

    /// <summary>Punctuation as BERT splits on it: every ASCII non-alphanumeric symbol, or a Unicode punctuation category (P*).</summary>
    public static bool IsBertPunctuation(int c) =>
        c is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126 || InRanges(Punctuation, c);

    /// <summary>The CJK ideograph blocks BERT isolates (Unified Ideographs, Extensions A–E and the two compatibility blocks).</summary>
    public static bool IsChineseCharacter(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    /// <summary>Canonical decomposition (NFD) appended to <paramref name="output"/>: every code point fully decomposed, then combining marks put in canonical order.</summary>
    public static void DecomposeInto(IReadOnlyList<int> codePoints, List<int> output)
    {
        var first = output.Count;
        foreach (var c in codePoints)
        {
            if (c < 0xC0) output.Add(c); // nothing below U+00C0 decomposes
            else if (c is >= HangulFirst and <= HangulLast) AddHangul(output, c);
            else if (Decompositions.TryGetValue(c, out var parts)) output.AddRange(parts);
            else output.Add(c);
        }

        SortCombiningMarks(output, first);
    }

    /// <summary>Appends the full lower-case mapping of <paramref name="c"/> (one or more code points).</summary>
    public static void AppendLowerCase(List<int> output, int c)
    {
        if (LowerCases.TryGetValue(c, out var lower)) output.AddRange(lower);
        else output.Add(c);
    }

    /// <summary>The code points of <paramref name="text"/> into <paramref name="output"/> (cleared first).</summary>
    public static void CodePointsInto(ReadOnlySpan<char> text, List<int> output)
    {
        output.Clear();
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) output.Add(char.ConvertToUtf32(text[i], text[++i]));
            else output.Add(text[i]);
        }
    }

    /// <summary>Writes one code point as UTF-16 (an unpaired surrogate value as that char); returns the chars written.</summary>
    public static int WriteCodePoint(int c, Span<char> destination)
    {
        if (c < 0x10000)
        {
            destination[0] = (char)c;
            return 1;
        }

        destination[0] = (char)(0xD800 + ((c - 0x10000) >> 10));
        destination[1] = (char)(0xDC00 + ((c - 0x10000) & 0x3FF));
        return 2;
    }

    /// <summary>Code points back to a string (an unpaired surrogate value is written as that char).</summary>
    public static string ToText(IEnumerable<int> codePoints)
    {
        var builder = new StringBuilder();
        foreach (var c in codePoints) AppendCodePoint(builder, c);
        return builder.ToString();
    }

    /// <summary>Appends one code point as UTF-16.</summary>
    public static void AppendCodePoint(StringBuilder builder, int c)
    {
        if (c < 0x10000) builder.Append((char)c);
        else builder.Append(char.ConvertFromUtf32(c));
    }

    // ranges: first, last, first, last, ... sorted; binary search over the range starts.
    private static bool InRanges(int[] ranges, int c)
    {
        int low = 0, high = ranges.Length / 2 - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (c < ranges[2 * middle]) high = middle - 1;
            else if (c > ranges[2 * middle + 1]) low = middle + 1;
            else return true;
        }

        return false;
    }

    private static void AddHangul(List<int> output, int c)
    {
        var index = c - HangulFirst;
        output.Add(JamoL + index / (VowelCount * TrailCount));
        output.Add(JamoV + index % (VowelCount * TrailCount) / TrailCount);
        if (index % TrailCount != 0) output.Add(JamoT + index % TrailCount);
    }

    // Canonical ordering: within each run of non-starters, a stable sort by combining class.
    private static void SortCombiningMarks(List<int> text, int first)
    {
        for (var i = first + 1; i < text.Count; i++)
        {
            var cls = CombiningClass(text[i]);
            if (cls == 0) continue;
            var j = i;
            while (j > first && CombiningClass(text[j - 1]) > cls)
            {
                (text[j - 1], text[j]) = (text[j], text[j - 1]);
                j--;
            }
        }
    }

    private static int CombiningClass(int c) => CombiningClasses.GetValueOrDefault(c);

    private static Dictionary<int, int[]> Unpack(ReadOnlySpan<int> packed)
    {
        var map = new Dictionary<int, int[]>();
        for (var i = 0; i < packed.Length; i += 2 + packed[i + 1])
            map[packed[i]] = packed.Slice(i + 2, packed[i + 1]).ToArray();
        return map;
    }
}
