namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's <c>BertPreTokenizer</c>: words are separated by whitespace (removed), and every punctuation character
/// (<see cref="UnicodeText.IsBertPunctuation"/>) becomes a word of its own.
/// </summary>
internal sealed class BertPreTokenizer : IPreTokenizer
{
    public void Split(string text, List<string> words)
    {
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            var width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var c = width == 2 ? char.ConvertToUtf32(text[i], text[i + 1]) : text[i];
            if (UnicodeText.IsWhitespace(c) || UnicodeText.IsBertPunctuation(c))
            {
                if (i > start) words.Add(text[start..i]);
                if (!UnicodeText.IsWhitespace(c)) words.Add(text.Substring(i, width));
                start = i + width;
            }

            i += width;
        }

        if (text.Length > start) words.Add(text[start..]);
    }
}
