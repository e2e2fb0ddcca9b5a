using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Data;

/// <summary>
/// Pads a list of <see cref="MultimodalSample"/>s into one <see cref="MultimodalBatch"/> on the CPU: text to the
/// longest sentence, acoustic and visual sequences to the longest of each, with masks (true = real) built from the
/// true lengths. Text comes from the samples' <see cref="MultimodalSample.TokenIds"/> when every sample has them,
/// otherwise from <see cref="MultimodalSample.Text"/> through the tokenizer.
/// </summary>
public sealed class MultimodalCollator
{
    private readonly ITextTokenizer? _tokenizer;
    private readonly int _maxTextLength;
    private readonly long _padTokenId;

    /// <summary>Creates a collator.</summary>
    /// <param name="tokenizer">Tokenizer for samples without token ids; may be null when every sample carries ids.</param>
    /// <param name="maxTextLength">Longest tokenized sentence, special tokens included (MMSA uses 50; 39 for SIMS).</param>
    /// <param name="padTokenId">Id used to pad pre-tokenized ids (BERT's [PAD] is 0).</param>
    public MultimodalCollator(ITextTokenizer? tokenizer = null, int maxTextLength = 50, long padTokenId = 0)
    {
        SettingRules.ThrowIf("collator", SettingRules.TextTokens(nameof(maxTextLength), maxTextLength));
        _tokenizer = tokenizer;
        _maxTextLength = maxTextLength;
        _padTokenId = padTokenId;
    }

    /// <summary>Builds the padded batch; the caller owns (and disposes) it.</summary>
    /// <exception cref="ShapeMismatchException">Samples disagree on a feature size.</exception>
    /// <exception cref="InvalidInputException">A sample has neither token ids nor text, or needs a tokenizer the collator lacks.</exception>
    public MultimodalBatch Collate(IReadOnlyList<MultimodalSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new InvalidInputException("samples", "a batch needs at least one sample.");

        using var scope = NewDisposeScope();
        var (inputIds, attentionMask, tokenTypeIds) = Text(samples);
        var (acoustic, acousticMask) = Frames(samples, s => s.Acoustic, "acoustic");
        var (visual, visualMask) = Frames(samples, s => s.Visual, "visual");
        // Always the sentiment scores: a classification head's trainer maps them to its classes.
        var labels = tensor(samples.Select(s => s.Label).ToArray(), ScalarType.Float32);
        var batch = new MultimodalBatch(inputIds, attentionMask, tokenTypeIds, acoustic, acousticMask, visual, visualMask,
            labels, samples.Select(s => s.Id).ToArray());
        foreach (var t in new[] { inputIds, attentionMask, tokenTypeIds, acoustic, acousticMask, visual, visualMask, labels })
            t.MoveToOuterDisposeScope();
        return batch;
    }

    private (Tensor Ids, Tensor Mask, Tensor TypeIds) Text(IReadOnlyList<MultimodalSample> samples)
    {
        if (samples.All(s => s.TokenIds is not null)) return PadTokenIds(samples);

        if (_tokenizer is null)
        {
            var first = samples.First(s => s.TokenIds is null);
            throw new InvalidInputException($"sample '{first.Id}'", "it has no token ids and the collator was created without a tokenizer.");
        }
        var texts = samples.Select(s => s.Text ?? throw new InvalidInputException($"sample '{s.Id}'", "it has neither token ids nor text.")).ToList();
        var encoded = _tokenizer.EncodeBatch(texts, _maxTextLength);
        return (encoded.InputIds, encoded.AttentionMask, encoded.TokenTypeIds);
    }

    private (Tensor, Tensor, Tensor) PadTokenIds(IReadOnlyList<MultimodalSample> samples)
    {
        int length = samples.Max(s => s.TokenIds!.Length);
        if (length == 0) throw new InvalidInputException("token ids", "every sample of the batch has an empty id list.");
        var ids = new long[samples.Count * length];
        var mask = new long[samples.Count * length];
        var types = new long[samples.Count * length];
        Array.Fill(ids, _padTokenId);
        for (int b = 0; b < samples.Count; b++)
        {
            var sample = samples[b];
            var own = sample.TokenIds!;
            if (sample.TokenTypeIds is { } t && t.Length != own.Length)
                throw new ShapeMismatchException($"token type ids of sample '{sample.Id}'", $"[{own.Length}] like its token ids", [t.Length]);
            own.CopyTo(ids, b * length);
            Array.Fill(mask, 1L, b * length, own.Length);
            sample.TokenTypeIds?.CopyTo(types, b * length);
        }
        long[] shape = [samples.Count, length];
        return (tensor(ids, shape), tensor(mask, shape), tensor(types, shape));
    }

    private static (Tensor Frames, Tensor Mask) Frames(IReadOnlyList<MultimodalSample> samples, Func<MultimodalSample, float[,]> select, string modality)
    {
        int dim = select(samples[0]).GetLength(1);
        int time = Math.Max(1, samples.Max(s => select(s).GetLength(0)));
        var data = new float[samples.Count * time * dim];
        var mask = new bool[samples.Count * time];
        for (int b = 0; b < samples.Count; b++)
        {
            var frames = select(samples[b]);
            if (frames.GetLength(1) != dim)
                throw new ShapeMismatchException($"{modality} frames of sample '{samples[b].Id}'", $"[time, {dim}] like the batch's first sample",
                    [frames.GetLength(0), frames.GetLength(1)]);
            Buffer.BlockCopy(frames, 0, data, b * time * dim * sizeof(float), frames.Length * sizeof(float));
            Array.Fill(mask, true, b * time, frames.GetLength(0));
        }
        return (tensor(data, [samples.Count, time, dim]), tensor(mask, [samples.Count, time]));
    }
}
