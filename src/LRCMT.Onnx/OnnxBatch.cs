using LRCMT.Errors;

namespace LRCMT.Onnx;

/// <summary>
/// One padded batch for an exported LRCMT model, as flat row-major arrays (the layout ONNX Runtime takes). Masks are
/// 1 for real positions and 0 for padding. Build one from samples with <see cref="Pad"/>, or fill it yourself.
/// </summary>
/// <param name="Size">Number of samples.</param>
/// <param name="TextLength">Tokens per row (the longest text, padded).</param>
/// <param name="InputIds">[Size, TextLength] token ids.</param>
/// <param name="AttentionMask">[Size, TextLength].</param>
/// <param name="TokenTypeIds">[Size, TextLength] segment ids, or null for all zeros.</param>
/// <param name="AcousticLength">Acoustic frames per row.</param>
/// <param name="Acoustic">[Size, AcousticLength, acoustic features], or null for a text-only model.</param>
/// <param name="AcousticMask">[Size, AcousticLength], or null with <paramref name="Acoustic"/>.</param>
/// <param name="VisualLength">Visual frames per row.</param>
/// <param name="Visual">[Size, VisualLength, visual features], or null for a text-only model.</param>
/// <param name="VisualMask">[Size, VisualLength], or null with <paramref name="Visual"/>.</param>
public sealed record OnnxBatch(
    int Size,
    int TextLength,
    long[] InputIds,
    long[] AttentionMask,
    long[]? TokenTypeIds,
    int AcousticLength = 0,
    float[]? Acoustic = null,
    long[]? AcousticMask = null,
    int VisualLength = 0,
    float[]? Visual = null,
    long[]? VisualMask = null)
{
    /// <summary>
    /// Pads samples into one batch: texts to the longest with <paramref name="padTokenId"/>, frame sequences to the
    /// longest with zeros, masks marking what is real. A sample may have no frames of a modality (an empty list).
    /// </summary>
    /// <param name="samples">The samples (at least one).</param>
    /// <param name="padTokenId">The tokenizer's padding id (<see cref="OnnxTokenizerInfo.PadTokenId"/>).</param>
    /// <param name="acousticFeatures">Values per acoustic frame, or 0 when the model takes no acoustic input.</param>
    /// <param name="visualFeatures">Values per visual frame, or 0 when the model takes no visual input.</param>
    /// <exception cref="InvalidInputException">There is no sample, a text has no token, or a frame has the wrong number of values.</exception>
    public static OnnxBatch Pad(IReadOnlyList<OnnxSample> samples, long padTokenId, int acousticFeatures, int visualFeatures)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new InvalidInputException("samples", "the batch is empty; give at least one sample.");
        for (var i = 0; i < samples.Count; i++)
            if (samples[i]?.TokenIds is not { Count: > 0 }) throw new InvalidInputException($"sample {i}", "it has no token ids; tokenize its text first.");

        int size = samples.Count, textLength = samples.Max(s => s.TokenIds.Count);
        var ids = new long[size * textLength];
        var mask = new long[size * textLength];
        Array.Fill(ids, padTokenId);
        for (var i = 0; i < size; i++)
        {
            for (var t = 0; t < samples[i].TokenIds.Count; t++)
            {
                ids[i * textLength + t] = samples[i].TokenIds[t];
                mask[i * textLength + t] = 1;
            }
        }

        var (acousticLength, acoustic, acousticMask) = Frames(samples, s => s.Acoustic, acousticFeatures, "acoustic");
        var (visualLength, visual, visualMask) = Frames(samples, s => s.Visual, visualFeatures, "visual");
        return new OnnxBatch(size, textLength, ids, mask, null, acousticLength, acoustic, acousticMask, visualLength, visual, visualMask);
    }

    private static (int Length, float[]? Values, long[]? Mask) Frames(IReadOnlyList<OnnxSample> samples, Func<OnnxSample, IReadOnlyList<float[]>?> select, int features, string modality)
    {
        if (features == 0) return (0, null, null);
        var length = Math.Max(1, samples.Max(s => select(s)?.Count ?? 0)); // ONNX Runtime takes no zero-length axis here
        var values = new float[samples.Count * length * features];
        var mask = new long[samples.Count * length];
        for (var i = 0; i < samples.Count; i++)
        {
            var frames = select(samples[i]) ?? [];
            for (var f = 0; f < frames.Count; f++)
            {
                if (frames[f] is null || frames[f].Length != features)
                    throw new InvalidInputException($"sample {i} {modality} frame {f}", $"it has {frames[f]?.Length ?? 0} values; the model takes {features}.");
                frames[f].CopyTo(values, (i * length + f) * features);
                mask[i * length + f] = 1;
            }
        }
        return (length, values, mask);
    }
}

/// <summary>One sample before padding: its text's token ids and its acoustic and visual frames.</summary>
/// <param name="TokenIds">Token ids from the model's tokenizer, special tokens included.</param>
/// <param name="Acoustic">Acoustic frames (each with the model's acoustic feature count), or null / empty for none.</param>
/// <param name="Visual">Visual frames, or null / empty for none.</param>
public sealed record OnnxSample(IReadOnlyList<int> TokenIds, IReadOnlyList<float[]>? Acoustic = null, IReadOnlyList<float[]>? Visual = null);
