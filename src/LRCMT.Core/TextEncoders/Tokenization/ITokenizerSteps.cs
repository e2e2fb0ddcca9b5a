namespace LRCMT.TextEncoders.Tokenization;

/// <summary>Rewrites raw text before it is split (Hugging Face's <c>normalizer</c> step).</summary>
internal interface ITextNormalizer
{
    string Normalize(string text);
}

/// <summary>Splits normalized text into words (Hugging Face's <c>pre_tokenizer</c> step).</summary>
internal interface IPreTokenizer
{
    void Split(string text, List<string> words);
}

/// <summary>Turns one word into vocabulary ids (Hugging Face's <c>model</c> step: WordPiece, BPE).</summary>
internal interface ITokenModel
{
    /// <summary>Number of ids the model's vocabulary holds.</summary>
    int VocabularySize { get; }

    /// <summary>Number of entries of the vocabulary (what Hugging Face calls its vocabulary size when it numbers added tokens).</summary>
    int TokenCount { get; }

    /// <summary>The id of a whole token string, or null when the vocabulary lacks it.</summary>
    int? TokenToId(string token);

    void Tokenize(string word, List<int> ids);
}
