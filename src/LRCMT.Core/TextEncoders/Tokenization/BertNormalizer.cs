namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>BertNormalizer</c>, in its order: clean text (drop NUL, U+FFFD and control/format characters; every
/// whitespace to a space), isolate CJK ideographs with spaces, strip accents (NFD, then drop non-spacing marks), lower-case.
/// </summary>
internal sealed class BertNormalizer(BertNormalizerOptions options) : ITextNormalizer
{
    public BertNormalizerOptions Options { get; } = options;

    public string Normalize(string text)
    {
        var current = UnicodeText.CodePoints(text);
        if (Options.CleanText) current = Clean(current);
        if (Options.HandleChineseChars) current = IsolateIdeographs(current);
        if (Options.StripAccentsOrLowercase) current = UnicodeText.Decompose(current).FindAll(c => !UnicodeText.IsNonSpacingMark(c));
        if (Options.Lowercase)
        {
            var lower = new List<int>(current.Count);
            foreach (var c in current) UnicodeText.AppendLowerCase(lower, c);
            current = lower;
        }

        return UnicodeText.ToText(current);
    }

    private static List<int> IsolateIdeographs(List<int> text)
    {
        var output = new List<int>(text.Count + 8);
        foreach (var c in text)
        {
            if (!UnicodeText.IsChineseCharacter(c))
            {
                output.Add(c);
                continue;
            }

            output.Add(' ');
            output.Add(c);
            output.Add(' ');
        }

        return output;
    }

    private static List<int> Clean(List<int> text)
    {
        var output = new List<int>(text.Count);
        foreach (var c in text)
        {
            if (c is '\t' or '\n' or '\r') output.Add(' ');
            else if (c == 0 || c == 0xFFFD || UnicodeText.IsOther(c)) continue;
            else output.Add(UnicodeText.IsWhitespace(c) ? ' ' : c);
        }

        return output;
    }
}

/// <summary>The four switches of Hugging Face's <c>BertNormalizer</c>.</summary>
/// <param name="CleanText">Remove control characters and turn every whitespace into a space.</param>
/// <param name="HandleChineseChars">Put spaces around CJK ideographs so each becomes a word.</param>
/// <param name="StripAccents">Decompose and drop non-spacing marks; null means "as <paramref name="Lowercase"/>", as Hugging Face does.</param>
/// <param name="Lowercase">Lower-case the text (full Unicode mapping).</param>
internal sealed record BertNormalizerOptions(bool CleanText = true, bool HandleChineseChars = true, bool? StripAccents = null, bool Lowercase = true)
{
    public bool StripAccentsOrLowercase => StripAccents ?? Lowercase;
}
