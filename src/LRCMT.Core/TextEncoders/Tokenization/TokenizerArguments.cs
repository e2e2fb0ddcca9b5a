namespace LRCMT.TextEncoders.Tokenization;

/// <summary>The argument checks every <see cref="ITextTokenizer.Encode"/> makes.</summary>
internal static class TokenizerArguments
{
    /// <exception cref="ArgumentException"><paramref name="texts"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    public static void CheckBatch(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("At least one text is needed.", nameof(texts));
        if (texts.Any(t => t is null)) throw new ArgumentException("Texts must not be null.", nameof(texts));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
    }
}
