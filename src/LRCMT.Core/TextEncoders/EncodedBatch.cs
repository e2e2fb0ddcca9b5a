namespace LRCMT.TextEncoders;

/// <summary>
/// A tokenized, padded batch as plain arrays, row-major [<see cref="BatchSize"/>, <see cref="SequenceLength"/>]:
/// what ONNX Runtime takes as int64 inputs, and what LRCMT.Lib turns into tensors (<c>ToTensors()</c>).
/// </summary>
public sealed class EncodedBatch
{
    /// <summary>Wraps arrays of <paramref name="batchSize"/> × <paramref name="sequenceLength"/> values each (not copied).</summary>
    /// <exception cref="ArgumentException">An array's length is not batchSize × sequenceLength.</exception>
    /// <exception cref="ArgumentOutOfRangeException">batchSize is below 1 or sequenceLength below 0.</exception>
    public EncodedBatch(long[] inputIds, long[] attentionMask, long[] tokenTypeIds, int batchSize, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(tokenTypeIds);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceLength);
        var count = (long)batchSize * sequenceLength;
        foreach (var (array, name) in new[] { (inputIds, nameof(inputIds)), (attentionMask, nameof(attentionMask)), (tokenTypeIds, nameof(tokenTypeIds)) })
            if (array.LongLength != count)
                throw new ArgumentException($"{name} holds {array.LongLength} values; a [{batchSize}, {sequenceLength}] batch needs {count}.", name);
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
    }

    /// <summary>Token ids, padded with the tokenizer's padding id.</summary>
    public long[] InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public long[] AttentionMask { get; }

    /// <summary>Segment (token type) ids.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>Number of sentences (rows).</summary>
    public int BatchSize { get; }

    /// <summary>Length of every row after padding.</summary>
    public int SequenceLength { get; }

    /// <summary>The shape <c>[BatchSize, SequenceLength]</c>, as tensor APIs take it.</summary>
    public long[] Shape => [BatchSize, SequenceLength];
}
