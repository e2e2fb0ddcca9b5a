using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

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

/// <summary>The TorchSharp side of the tokenizers (which live in the libtorch-free LRCMT.Core).</summary>
public static class TokenizerTensorExtensions
{
    /// <summary>
    /// Encodes a batch (<see cref="ITextTokenizer.Encode"/>) and returns it as [batch, seq] int64 CPU tensors.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="texts"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    public static TokenizedBatch EncodeBatch(this ITextTokenizer tokenizer, IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.Encode(texts, maxLength).ToTensors();
    }

    /// <summary>The three arrays as [batch, seq] int64 CPU tensors (copied).</summary>
    public static TokenizedBatch ToTensors(this EncodedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long[] shape = batch.Shape;
        return new TokenizedBatch(tensor(batch.InputIds, shape), tensor(batch.AttentionMask, shape), tensor(batch.TokenTypeIds, shape));
    }

    /// <summary>
    /// Refuses a tokenizer whose vocabulary does not have exactly <paramref name="config"/>'s <c>vocab_size</c> tokens:
    /// a shorter vocab.txt is another model's, and a longer one produces ids outside the embedding table.
    /// </summary>
    /// <exception cref="Errors.InvalidConfigurationException">The sizes differ (both are named).</exception>
    public static void RequireMatches(this ITextTokenizer tokenizer, BertConfig config, string source)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(config);
        if (tokenizer.VocabularySize != config.VocabSize)
            throw new Errors.InvalidConfigurationException($"text encoder '{source}'",
                $"the tokenizer has {tokenizer.VocabularySize} tokens but config.json's vocab_size is {config.VocabSize}; the vocabulary belongs to another model.");
    }
}
