namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// The sizes a tokenizer file may declare, checked before anything is allocated. They are also the bounds of a BERT
/// config (<c>BertConfig.MaxVocabSize</c>, <c>BertConfig.MaxPositions</c> refer to these), so a tokenizer that loads
/// never produces ids or lengths no model could take.
/// </summary>
internal static class TokenizerLimits
{
    /// <summary>Most tokens a vocabulary (and so the largest id + 1) may have: 2^20, 20× bert-base's and 4× XLM-R's.</summary>
    public const int MaxVocabularySize = 1 << 20;

    /// <summary>Token types a model may have (<c>BertConfig</c>'s bound on <c>type_vocab_size</c>); a type id must be below it.</summary>
    public const int MaxTypeVocabularySize = 1024;

    /// <summary>Characters all added tokens of a tokenizer may hold together (they are matched by one automaton built from them).</summary>
    public const int MaxAddedTokenCharacters = 1 << 22;

    /// <summary>Longest sequence a tokenizer may pad or truncate to (a fixed padding length, <c>max_length</c>).</summary>
    public const int MaxSequenceLength = 1 << 16;
}
