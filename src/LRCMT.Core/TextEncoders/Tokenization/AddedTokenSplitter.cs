namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Finds added tokens in text, leftmost match first and the longest token at a position, as Hugging Face's
/// <c>AddedVocabulary</c> does; whitespace around a match is absorbed where the token asks for it.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken[] tokens;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        this.tokens = tokens.Where(t => t.Content.Length > 0).OrderByDescending(t => t.Content.Length).ThenBy(t => t.Id).ToArray();
    }

    public bool IsEmpty => tokens.Length == 0;

    /// <summary>Splits <paramref name="text"/> into plain segments (<c>Id</c> null) and matched tokens (<c>Text</c> null).</summary>
    public void Split(string text, List<(string? Text, int? Id)> output)
    {
        if (tokens.Length == 0)
        {
            output.Add((text, null));
            return;
        }

        var segmentStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var token = MatchAt(text, i);
            if (token is null)
            {
                i++;
                continue;
            }

            var start = i;
            if (token.LeftStrip)
                while (start > segmentStart && UnicodeText.IsWhitespace(text[start - 1])) start--;
            var end = i + token.Content.Length;
            if (token.RightStrip)
                while (end < text.Length && UnicodeText.IsWhitespace(text[end])) end++;
            if (start > segmentStart) output.Add((text[segmentStart..start], null));
            output.Add((null, token.Id));
            segmentStart = i = end;
        }

        if (segmentStart < text.Length) output.Add((text[segmentStart..], null));
    }

    private AddedToken? MatchAt(string text, int index)
    {
        foreach (var token in tokens)
            if (index + token.Content.Length <= text.Length && string.CompareOrdinal(text, index, token.Content, 0, token.Content.Length) == 0)
                return token;
        return null;
    }
}
