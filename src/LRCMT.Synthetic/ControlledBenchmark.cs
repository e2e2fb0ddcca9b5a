namespace LRCMT.Data.Synthetic;

/// <summary>
/// The controlled benchmark: synthetic multimodal sentiment data whose labels need what LRCMT adds. The sentence
/// gives a polarity p; when a visual and an acoustic event happen at the same time the speaker means the opposite
/// (label −p); decoys (both events at different times, or only one of them) change nothing; the acoustic intensity
/// level scales |label|; labels are clipped to [-3, 3]. Text alone therefore misses every flipped sample, and only
/// the timing between vision and audio tells flips from decoys.
/// </summary>
public static class ControlledBenchmark
{
    /// <summary>Generates train/valid/test splits, deterministic in <see cref="ControlledBenchmarkOptions.Seed"/>.</summary>
    /// <exception cref="Errors.InvalidConfigurationException">An option is out of range.</exception>
    public static ControlledBenchmarkSplits Generate(ControlledBenchmarkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();

        var explanations = new Dictionary<string, SampleExplanation>();
        // Each split has its own stream, so changing one split's size leaves the others unchanged.
        var train = GenerateSplit("train", 0, options.TrainCount, options, explanations);
        var valid = GenerateSplit("valid", 1, options.ValidCount, options, explanations);
        var test = GenerateSplit("test", 2, options.TestCount, options, explanations);
        return new ControlledBenchmarkSplits(train, valid, test, explanations, options);
    }

    private static List<MultimodalSample> GenerateSplit(
        string split, int splitIndex, int count, ControlledBenchmarkOptions options, Dictionary<string, SampleExplanation> explanations)
    {
        var random = new Random(SplitSeed(options.Seed, splitIndex));
        // Event heights have their own stream, so grading them changes nothing else about the samples.
        var heights = new Random(SplitSeed(options.Seed, splitIndex + 16));
        var samples = new List<MultimodalSample>(count);
        for (int i = 0; i < count; i++)
        {
            string id = $"controlled_{split}$_${i}";
            var sentence = SentimentSentences.Draw(random, options.NegationRate);
            var cue = DrawCue(random, options);
            var (visualTimes, acousticTimes) = DrawEventTimes(random, cue, options);
            var visualAmplitudes = DrawAmplitudes(heights, visualTimes.Length, options);
            var acousticAmplitudes = DrawAmplitudes(heights, acousticTimes.Length, options);
            int level = random.Next(options.IntensityScales.Length);
            float scale = options.IntensityScales[level];

            float sign = cue == CueKind.CoOccurring ? -1f : 1f;
            float label = Math.Clamp(sign * sentence.Polarity * scale, -3f, 3f);

            var visual = EventTracks.Visual(random, options, visualTimes, visualAmplitudes);
            var acoustic = EventTracks.Acoustic(random, options, acousticTimes, acousticAmplitudes, level);
            samples.Add(new MultimodalSample(id, sentence.Text, null, acoustic, visual, label));
            explanations.Add(id, new SampleExplanation(
                id, sentence.Polarity, sentence.Word, sentence.Intensifier, sentence.Negated, cue,
                visualTimes, acousticTimes, level, scale, label)
            {
                VisualEventAmplitudes = visualAmplitudes,
                AcousticEventAmplitudes = acousticAmplitudes,
            });
        }
        return samples;
    }

    private static CueKind DrawCue(Random random, ControlledBenchmarkOptions options)
    {
        double u = random.NextDouble();
        if (u < options.CoOccurringRate) return CueKind.CoOccurring;
        u -= options.CoOccurringRate;
        if (u < options.DecoyRate)
        {
            int which = (int)(3 * u / options.DecoyRate);
            return which switch { 0 => CueKind.DecoyApart, 1 => CueKind.DecoyVisualOnly, _ => CueKind.DecoyAcousticOnly };
        }
        return CueKind.None;
    }

    private static (double[] Visual, double[] Acoustic) DrawEventTimes(Random random, CueKind cue, ControlledBenchmarkOptions options)
    {
        // Event centres stay a full event away from the clip's edges so no event is cut off.
        double first = options.EventDuration, last = 1 - options.EventDuration;
        double Uniform(double from, double to) => from + (to - from) * random.NextDouble();

        switch (cue)
        {
            case CueKind.CoOccurring:
            {
                double visual = Uniform(first + options.SimultaneityTolerance, last - options.SimultaneityTolerance);
                double acoustic = visual + Uniform(-options.SimultaneityTolerance, options.SimultaneityTolerance);
                return ([visual], [acoustic]);
            }
            case CueKind.DecoyApart:
            {
                double early = Uniform(first, last - options.DecoyMinGap);
                double late = Uniform(early + options.DecoyMinGap, last);
                return random.Next(2) == 0 ? ([early], [late]) : ([late], [early]);
            }
            case CueKind.DecoyVisualOnly:
                return ([Uniform(first, last)], []);
            case CueKind.DecoyAcousticOnly:
                return ([], [Uniform(first, last)]);
            default:
                return ([], []);
        }
    }

    // Every event at EventAmplitude unless a weakest height is set.
    private static float[] DrawAmplitudes(Random random, int events, ControlledBenchmarkOptions options)
    {
        var amplitudes = new float[events];
        for (int i = 0; i < events; i++)
            amplitudes[i] = options.WeakestEventAmplitude is { } weakest
                ? (float)(weakest + (options.EventAmplitude - weakest) * random.NextDouble())
                : options.EventAmplitude;
        return amplitudes;
    }

    // SplitMix64 finaliser: well-spread seeds per split without relying on HashCode (randomised per process).
    private static int SplitSeed(int seed, int splitIndex)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)(splitIndex + 1) * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
