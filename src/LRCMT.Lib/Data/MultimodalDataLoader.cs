using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.Data;

/// <summary>
/// Cuts a list of samples into padded batches, one epoch at a time. With shuffling, the order of epoch <c>e</c> is a
/// permutation drawn from <c>(seed, e)</c> alone, so any epoch can be replayed, e.g. after resuming from a checkpoint,
/// without saving a random-number state.
/// </summary>
public sealed class MultimodalDataLoader
{
    private readonly IReadOnlyList<MultimodalSample> _samples;
    private readonly MultimodalCollator _collator;
    private MissingModalities? _missing;

    /// <summary>Creates a loader.</summary>
    /// <param name="samples">The dataset (e.g. <c>MmsaFeatureFile.Train.Samples</c>).</param>
    /// <param name="collator">Pads samples into batches.</param>
    /// <param name="batchSize">Samples per batch; the last batch may be smaller unless <paramref name="dropLast"/>.</param>
    /// <param name="shuffle">Reorder the samples every epoch (training) or keep file order (evaluation).</param>
    /// <param name="seed">Seed of the shuffling.</param>
    /// <param name="dropLast">Skip a last, incomplete batch.</param>
    public MultimodalDataLoader(IReadOnlyList<MultimodalSample> samples, MultimodalCollator collator, int batchSize,
        bool shuffle = false, int seed = 0, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(collator);
        SettingRules.ThrowIf("data loader", SettingRules.BatchSize(nameof(batchSize), batchSize));
        if (samples.Count == 0) throw new InvalidConfigurationException("data loader", "the dataset has no samples.");
        _samples = samples;
        _collator = collator;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Seed of the shuffling.</summary>
    public int Seed { get; }

    /// <summary>Whether an incomplete last batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Number of samples.</summary>
    public int SampleCount => _samples.Count;

    /// <summary>The missing data applied to every batch (<see cref="WithMissingModalities"/>), or null.</summary>
    public MissingModalities? Missing => _missing;

    /// <summary>
    /// The same loader (samples, batching, order) whose batches have <paramref name="missing"/> applied: evaluate a
    /// model on it (<c>Trainer.Evaluate</c>, <c>Trainer.Predict</c>) to measure what missing data costs.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">A setting of <paramref name="missing"/> is out of range.</exception>
    public MultimodalDataLoader WithMissingModalities(MissingModalities missing)
    {
        ArgumentNullException.ThrowIfNull(missing);
        missing.Validate();
        return new MultimodalDataLoader(_samples, _collator, BatchSize, Shuffle, Seed, DropLast) { _missing = missing };
    }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? _samples.Count / BatchSize : (_samples.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample indices of <paramref name="epoch"/> in the order they are served.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _samples.Count).ToArray();
        if (!Shuffle) return order;
        // System.Random with an explicit seed is the same sequence on every platform and .NET version.
        var random = new Random(unchecked(Seed * 1_000_003 + epoch));
        random.Shuffle(order);
        return order;
    }

    /// <summary>The batches of one epoch; each batch is new and must be disposed by the caller.</summary>
    /// <param name="epoch">The epoch (0-based); it selects the shuffled order.</param>
    /// <param name="skipBatches">Batches to leave out at the start, e.g. those a resumed run already trained on.</param>
    public IEnumerable<MultimodalBatch> Epoch(int epoch, int skipBatches = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipBatches);
        var order = Order(epoch);
        for (int b = skipBatches; b < BatchCount; b++)
        {
            var members = order.Skip(b * BatchSize).Take(BatchSize).Select(i => _samples[i]).ToList();
            var batch = _collator.Collate(members);
            if (_missing is null)
            {
                yield return batch;
                continue;
            }
            MultimodalBatch masked;
            using (batch) masked = _missing.Apply(batch);
            yield return masked;
        }
    }
}
