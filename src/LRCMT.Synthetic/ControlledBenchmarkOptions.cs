using LRCMT.Errors;

namespace LRCMT.Data.Synthetic;

/// <summary>
/// Settings of the controlled benchmark (plain data, bindable from configuration). Defaults follow CMU-MOSI:
/// split sizes 1284/229/686, acoustic 5 and visual 20 features, aligned sequences of 50 frames.
/// Times are fractions of a clip's duration, so aligned (equal lengths) and unaligned (different lengths)
/// sequences describe the same moments.
/// </summary>
public sealed class ControlledBenchmarkOptions
{
    /// <summary>Seed of every random choice: the same options give the same samples.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Number of training samples.</summary>
    public int TrainCount { get; set; } = 1284;

    /// <summary>Number of validation samples.</summary>
    public int ValidCount { get; set; } = 229;

    /// <summary>Number of test samples.</summary>
    public int TestCount { get; set; } = 686;

    /// <summary>Frames in each acoustic sequence.</summary>
    public int AcousticLength { get; set; } = 50;

    /// <summary>Frames in each visual sequence (different from <see cref="AcousticLength"/> = unaligned data).</summary>
    public int VisualLength { get; set; } = 50;

    /// <summary>Acoustic features per frame; the last one carries the intensity level, the others the events.</summary>
    public int AcousticFeatures { get; set; } = 5;

    /// <summary>Visual features per frame.</summary>
    public int VisualFeatures { get; set; } = 20;

    /// <summary>Share of samples whose visual and acoustic events co-occur (label flipped).</summary>
    public double CoOccurringRate { get; set; } = 0.3;

    /// <summary>Share of decoy samples (events apart, or only one modality's event), split evenly among the three kinds.</summary>
    public double DecoyRate { get; set; } = 0.3;

    /// <summary>Share of sentences that negate their sentiment word.</summary>
    public double NegationRate { get; set; } = 0.3;

    /// <summary>Standard deviation of the Gaussian noise in every feature.</summary>
    public float NoiseStd { get; set; } = 0.5f;

    /// <summary>Peak height of an event in its feature channels.</summary>
    public float EventAmplitude { get; set; } = 2.5f;

    /// <summary>Duration of one event as a fraction of the clip (its envelope is a raised cosine of this width).</summary>
    public double EventDuration { get; set; } = 0.12;

    /// <summary>Co-occurring events' centres differ by at most this much (fraction of the clip); this defines "at the same time".</summary>
    public double SimultaneityTolerance { get; set; } = 0.02;

    /// <summary>Decoy events of the two modalities are at least this far apart (fraction of the clip).</summary>
    public double DecoyMinGap { get; set; } = 0.3;

    /// <summary>Factors applied to |label| by the acoustic intensity levels (level i is drawn uniformly).</summary>
    public float[] IntensityScales { get; set; } = [0.6f, 1.0f, 1.4f];

    /// <summary>Offset of the intensity channel between consecutive levels.</summary>
    public float IntensityStep { get; set; } = 1.0f;

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing every invalid setting.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (TrainCount < 1) problems.Add($"TrainCount must be at least 1 (was {TrainCount}).");
        if (ValidCount < 0 || TestCount < 0) problems.Add($"ValidCount and TestCount must not be negative (were {ValidCount}, {TestCount}).");
        if (AcousticLength < 4 || VisualLength < 4)
            problems.Add($"AcousticLength and VisualLength must be at least 4 frames (were {AcousticLength}, {VisualLength}).");
        if (AcousticFeatures < 2)
            problems.Add($"AcousticFeatures must be at least 2: one event channel and one intensity channel (was {AcousticFeatures}).");
        if (VisualFeatures < 1) problems.Add($"VisualFeatures must be at least 1 (was {VisualFeatures}).");
        // Upper bounds keep a typo (or a hostile config) from allocating gigabytes of synthetic frames.
        if (TrainCount > 1_000_000 || ValidCount > 1_000_000 || TestCount > 1_000_000)
            problems.Add($"TrainCount, ValidCount and TestCount must be at most 1,000,000 (were {TrainCount}, {ValidCount}, {TestCount}).");
        if (AcousticLength > 10_000 || VisualLength > 10_000 || AcousticFeatures > 4096 || VisualFeatures > 4096)
            problems.Add($"AcousticLength and VisualLength must be at most 10,000 frames and the feature sizes at most 4096 " +
                         $"(were {AcousticLength}, {VisualLength}, {AcousticFeatures}, {VisualFeatures}).");
        if (!IsShare(CoOccurringRate) || !IsShare(DecoyRate) || !IsShare(NegationRate))
            problems.Add($"CoOccurringRate, DecoyRate and NegationRate must lie in [0, 1] (were {CoOccurringRate}, {DecoyRate}, {NegationRate}).");
        else if (CoOccurringRate + DecoyRate > 1)
            problems.Add($"CoOccurringRate + DecoyRate must not exceed 1 (was {CoOccurringRate + DecoyRate}).");
        if (!(NoiseStd >= 0) || !(EventAmplitude > 0))
            problems.Add($"NoiseStd must be ≥ 0 and EventAmplitude > 0 (were {NoiseStd}, {EventAmplitude}).");
        if (!(EventDuration > 0 && EventDuration <= 0.3))
            problems.Add($"EventDuration must lie in (0, 0.3] of the clip (was {EventDuration}).");
        if (!(SimultaneityTolerance >= 0 && SimultaneityTolerance < EventDuration / 2))
            problems.Add($"SimultaneityTolerance must lie in [0, EventDuration/2) so co-occurring events overlap (was {SimultaneityTolerance}).");
        // Decoys must never overlap, and both events must still fit inside the clip.
        if (!(DecoyMinGap >= EventDuration + SimultaneityTolerance && DecoyMinGap <= 1 - 2 * EventDuration))
            problems.Add($"DecoyMinGap must lie in [EventDuration + SimultaneityTolerance, 1 - 2·EventDuration] (was {DecoyMinGap}).");
        if (IntensityScales is null || IntensityScales.Length == 0 || IntensityScales.Any(s => !(s > 0)))
            problems.Add("IntensityScales must hold at least one positive factor.");
        if (!(IntensityStep > 0)) problems.Add($"IntensityStep must be positive (was {IntensityStep}).");
        if (problems.Count > 0) throw new InvalidConfigurationException("controlled benchmark options", problems);
    }

    /// <summary>A copy whose later changes do not affect this instance.</summary>
    public ControlledBenchmarkOptions Clone()
    {
        var copy = (ControlledBenchmarkOptions)MemberwiseClone();
        copy.IntensityScales = (float[])IntensityScales.Clone();
        return copy;
    }

    private static bool IsShare(double value) => value is >= 0 and <= 1;
}
