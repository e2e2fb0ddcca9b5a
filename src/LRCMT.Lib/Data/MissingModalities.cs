using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Data;

/// <summary>
/// Missing data, to measure how a model copes with it: a share <see cref="Rate"/> of each sample's acoustic and visual
/// frames (and, when asked, of its words) is masked out, or, with <see cref="WholeModalities"/>, each stream of each
/// sample is dropped whole with probability <see cref="Rate"/>. A masked frame becomes padding (its mask false, its
/// features zero), exactly as if it had not been recorded. The masks depend only on <see cref="Seed"/>, the sample's id
/// and the stream, so they are the same in any batch, order or batch size, and the same for every model evaluated
/// with the same seed. Apply them to a batch (<see cref="Apply"/>) or to every batch of a loader
/// (<see cref="MultimodalDataLoader.WithMissingModalities"/>).
/// </summary>
/// <remarks>
/// Frames mode masks ⌊r·n + ½⌋ of a stream's n real frames, chosen uniformly. The text's first and last real tokens
/// (the tokenizer's [CLS]/[SEP] or &lt;s&gt;/&lt;/s&gt;) are never masked: only words are. Unless
/// <see cref="MayMaskWholeSample"/>, a sample never loses everything: in frames mode each stream keeps at least one
/// real frame (one word), and with whole modalities and the text included, a sample whose three streams were all drawn
/// keeps the one with the highest draw. Models that place frames in time by their rank among the real frames (LRCMT's
/// relative-time bias, MAG-BERT's resampling) see the remaining frames spread over the clip again: that is part of what
/// a missing frame costs them.
/// </remarks>
public sealed record MissingModalities
{
    /// <summary>MMSA's seed for its missing-data masks (<c>missing_seed</c> 1111).</summary>
    public const int DefaultSeed = 1111;

    /// <summary>The share of frames masked in each stream (frames mode), or the probability that a stream is dropped (whole modalities); in [0, 1].</summary>
    public double Rate { get; init; }

    /// <summary>Drop whole streams (each with probability <see cref="Rate"/>) instead of a share of every stream's frames.</summary>
    public bool WholeModalities { get; init; }

    /// <summary>Seed of the masks (default MMSA's 1111); the masks of a sample depend on it, the sample's id and the stream only.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>Mask the text's words too (default: only the acoustic and visual streams, so the text is always complete).</summary>
    public bool IncludeText { get; init; }

    /// <summary>Allow a stream (frames mode) or a whole sample (whole modalities with the text included) to lose everything.</summary>
    public bool MayMaskWholeSample { get; init; }

    /// <summary>Every problem of these settings (paths relative to them); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.Share(nameof(Rate), Rate),
        SettingRules.InRange(nameof(Seed), Seed, 0, int.MaxValue));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("missing modalities", FindProblems());

    /// <summary>
    /// A copy of <paramref name="batch"/> with the masks applied (new tensors on the batch's device; the batch itself is
    /// unchanged and stays the caller's to dispose).
    /// </summary>
    /// <exception cref="InvalidConfigurationException">A setting is out of range.</exception>
    /// <exception cref="ShapeMismatchException">A mask does not have one row per sample, or the batch has not one id per sample.</exception>
    public MultimodalBatch Apply(MultimodalBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Validate();
        if (batch.Ids.Count != batch.Size)
            throw new ShapeMismatchException("batch ids", $"{batch.Size} (one per sample)", new[] { (long)batch.Ids.Count });
        var text = ReadMask(batch.AttentionMask, batch.Size, "text mask");
        var acoustic = ReadMask(batch.AcousticMask, batch.Size, "acoustic mask");
        var visual = ReadMask(batch.VisualMask, batch.Size, "visual mask");
        for (int row = 0; row < batch.Size; row++)
            MaskSample(batch.Ids[row], text[row], acoustic[row], visual[row]);

        using var scope = NewDisposeScope();
        var device = batch.AttentionMask.device;
        var textMask = MaskTensor(text, device);
        var acousticMask = MaskTensor(acoustic, device);
        var visualMask = MaskTensor(visual, device);
        var masked = new MultimodalBatch(
            batch.InputIds.clone(),
            textMask.to(batch.AttentionMask.dtype),
            batch.TokenTypeIds?.clone(),
            batch.Acoustic.masked_fill(acousticMask.logical_not().unsqueeze(2), Zero),
            acousticMask,
            batch.Visual.masked_fill(visualMask.logical_not().unsqueeze(2), Zero),
            visualMask,
            batch.Labels?.clone(),
            batch.Ids);
        foreach (var tensor in Tensors(masked)) tensor.MoveToOuterDisposeScope();
        return masked;
    }

    private enum Stream { Text, Acoustic, Visual }

    private void MaskSample(string id, bool[] text, bool[] acoustic, bool[] visual)
    {
        var streams = new List<(Stream Kind, bool[] Mask)>();
        if (IncludeText) streams.Add((Stream.Text, text));
        streams.Add((Stream.Acoustic, acoustic));
        streams.Add((Stream.Visual, visual));
        if (WholeModalities) DropStreams(id, streams);
        else foreach (var (kind, mask) in streams) MaskFrames(new Random(StreamSeed(id, kind)), Maskable(kind, mask), mask);
    }

    private void DropStreams(string id, List<(Stream Kind, bool[] Mask)> streams)
    {
        var draws = streams.Select(s => new Random(StreamSeed(id, s.Kind)).NextDouble()).ToArray();
        var dropped = draws.Select(u => u < Rate).ToArray();
        // Without the text among them the text always stays; with it, the highest draw survives unless asked otherwise.
        if (IncludeText && !MayMaskWholeSample && dropped.All(d => d)) dropped[Array.IndexOf(draws, draws.Max())] = false;
        for (int s = 0; s < streams.Count; s++)
            if (dropped[s])
                foreach (int position in Maskable(streams[s].Kind, streams[s].Mask)) streams[s].Mask[position] = false;
    }

    private void MaskFrames(Random random, List<int> positions, bool[] mask)
    {
        int count = (int)Math.Round(Rate * positions.Count, MidpointRounding.AwayFromZero);
        if (!MayMaskWholeSample) count = Math.Min(count, Math.Max(0, positions.Count - 1));
        // A partial Fisher–Yates shuffle: the first `count` positions are a uniform choice without replacement.
        for (int i = 0; i < count; i++)
        {
            int j = i + random.Next(positions.Count - i);
            (positions[i], positions[j]) = (positions[j], positions[i]);
            mask[positions[i]] = false;
        }
    }

    // The real positions that may be masked: every real frame, or every real token but the first and the last.
    private static List<int> Maskable(Stream kind, bool[] mask)
    {
        var real = Enumerable.Range(0, mask.Length).Where(i => mask[i]).ToList();
        return kind == Stream.Text ? real.Skip(1).SkipLast(1).ToList() : real;
    }

    // SplitMix64 over the seed, a stable hash of the id (FNV-1a; string.GetHashCode differs per process) and the stream.
    private int StreamSeed(string id, Stream stream)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in id) hash = (hash ^ c) * 1099511628211UL;
        ulong z = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL + hash + (ulong)(stream + 1) * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static bool[][] ReadMask(Tensor mask, long rows, string what)
    {
        if (mask.dim() != 2 || mask.shape[0] != rows) throw new ShapeMismatchException(what, $"[{rows}, length]", mask.shape);
        using var scope = NewDisposeScope();
        var values = mask.to(ScalarType.Bool).cpu().data<bool>().ToArray();
        int length = (int)mask.shape[1];
        return Enumerable.Range(0, (int)rows).Select(r => values.AsSpan(r * length, length).ToArray()).ToArray();
    }

    private static Tensor MaskTensor(bool[][] rows, Device device)
    {
        int length = rows.Length == 0 ? 0 : rows[0].Length;
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, length]).to(device);
    }

    private static IEnumerable<Tensor> Tensors(MultimodalBatch b) =>
        new[] { b.InputIds, b.AttentionMask, b.TokenTypeIds, b.Acoustic, b.AcousticMask, b.Visual, b.VisualMask, b.Labels }.OfType<Tensor>();
}
