using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>Turns raw sentences into padded id tensors for a <see cref="TextEncoder"/>.</summary>
public interface ITextTokenizer
{
    /// <summary>Size of the vocabulary; every id produced is below it.</summary>
    int VocabularySize { get; }

    /// <summary>
    /// Encodes a batch: adds the special tokens, truncates each sentence to <paramref name="maxLength"/> tokens
    /// (special tokens included) and pads to the longest sentence of the batch.
    /// </summary>
    TokenizedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength);
}

/// <summary>A tokenized, padded batch: every tensor is [batch, seq] int64; the mask is 1 for real tokens.</summary>
public sealed record TokenizedBatch(Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds) : IDisposable
{
    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
