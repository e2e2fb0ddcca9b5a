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
        var output = new List<int>(text.Length);
        NormalizeInto(text, output, new List<int>(text.Length));
        return UnicodeText.ToText(output);
    }

    /// <summary>The normalized code points of <paramref name="text"/>, into <paramref name="output"/> (cleared first); <paramref name="work"/> is scratch.</summary>
    public void NormalizeInto(ReadOnlySpan<char> text, List<int> output, List<int> work)
    {
        // Clean and CJK isolation look at one code point at a time.
        var cleaned = Options.StripAccentsOrLowercase ? work : output;
        cleaned.Clear();
        for (var i = 0; i < text.Length; i++)
        {
            int c = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) c = char.ConvertToUtf32(text[i], text[++i]);
            if (Options.CleanText)
            {
                if (c is '\t' or '\n' or '\r') c = ' ';
                else if (c == 0 || c == 0xFFFD || UnicodeText.IsOther(c)) continue;
                else if (UnicodeText.IsWhitespace(c)) c = ' ';
            }

            if (Options.HandleChineseChars && UnicodeText.IsChineseCharacter(c))
            {
                cleaned.Add(' ');
                cleaned.Add(c);
                cleaned.Add(' ');
            }
            else
            {
                cleaned.Add(c);
            }
        }

        if (!Options.StripAccentsOrLowercase && !Options.Lowercase) return;
        if (Options.StripAccentsOrLowercase)
        {
            output.Clear();
            UnicodeText.DecomposeInto(cleaned, output);
            output.RemoveAll(UnicodeText.IsNonSpacingMark);
        }

        if (!Options.Lowercase) return;
        work.Clear();
        foreach (var c in output) UnicodeText.AppendLowerCase(work, c);

        output.Clear();
        output.AddRange(work);
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
