namespace LRCMT.TextEncoders.Tokenization;

/// <summary>Rewrites raw text before it is split (Hugging Face's <c>normalizer</c> step).</summary>
internal interface ITextNormalizer
{
    string Normalize(string text);
}

/// <summary>
/// Splits normalized text into words and hands each word to the model (Hugging Face's <c>pre_tokenizer</c> step, with
/// the model applied per word): words are spans of a reused buffer, never strings.
/// </summary>
internal interface IPreTokenizer
{
    void Tokenize(ReadOnlySpan<char> text, ITokenModel model, List<int> ids);
}

/// <summary>Turns one word into vocabulary ids (Hugging Face's <c>model</c> step: WordPiece, BPE).</summary>
internal interface ITokenModel
{
    /// <summary>Largest id plus one.</summary>
    int VocabularySize { get; }

    /// <summary>Number of entries of the vocabulary (what Hugging Face calls its vocabulary size when it numbers added tokens).</summary>
    int TokenCount { get; }

    /// <summary>The id of a whole token string, or null when the vocabulary lacks it.</summary>
    int? TokenToId(string token);

    /// <summary>The token string of <paramref name="id"/>, or null when the vocabulary has no such id.</summary>
    string? IdToToken(int id);

    void Tokenize(ReadOnlySpan<char> word, List<int> ids);
}
