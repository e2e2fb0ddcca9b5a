namespace LRCMT.Errors;

/// <summary>
/// A tokenizer description (<c>tokenizer.json</c>, <c>tokenizer_config.json</c>) asks for a component or setting the
/// library cannot reproduce exactly; it is refused rather than approximated, since other ids than the model was
/// trained on would go unnoticed.
/// </summary>
public sealed class UnsupportedTokenizerException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file (or description) that asks for it.</param>
    /// <param name="problem">What is not supported, and what is.</param>
    public UnsupportedTokenizerException(string source, string problem) : base($"{source}: {problem}")
    {
        SourceFile = source;
    }

    /// <summary>The file (or description) that asks for the unsupported component.</summary>
    public string SourceFile { get; }
}
