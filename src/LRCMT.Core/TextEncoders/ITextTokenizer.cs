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
}
