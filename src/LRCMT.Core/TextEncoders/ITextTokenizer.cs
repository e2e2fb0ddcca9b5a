namespace LRCMT.TextEncoders;

/// <summary>
/// Turns raw sentences into padded id arrays for a text encoder. LRCMT.Lib's <c>EncodeBatch</c> extension gives the
/// same batch as TorchSharp tensors; the arrays feed ONNX Runtime directly.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Size of the vocabulary; every id produced is below it.</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Encodes a batch: adds the special tokens, truncates each sentence to <paramref name="maxLength"/> tokens
    /// (special tokens included) and pads to the longest sentence of the batch.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="texts"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    EncodedBatch Encode(IReadOnlyList<string> texts, int maxLength);

    /// <summary>
    /// The vocabulary's token string for <paramref name="id"/> (Hugging Face's <c>id_to_token</c>: a WordPiece piece
    /// such as <c>##ing</c>, a byte-level BPE token such as <c>Ġgood</c>), or null when it has no such id or the
    /// tokenizer cannot say (the default).
    /// </summary>
    string? IdToToken(int id) => null;
}
