namespace LRCMT.Data.Synthetic;

/// <summary>
/// Writes the visual and acoustic sequences: Gaussian noise in every feature, plus events (a raised-cosine bump
/// in a few feature channels) centred at given fractions of the clip. Working in fractions of the clip rather
/// than frame indices is what lets unaligned sequences of different lengths describe the same moments.
/// </summary>
internal static class EventTracks
{
    /// <summary>Visual events show in the first few channels (a "facial expression" pattern).</summary>
    private const int VisualEventChannels = 4;

    /// <summary>Acoustic events show in the first channels; the last acoustic channel is reserved for intensity.</summary>
    private const int AcousticEventChannels = 2;

    /// <summary>A [length, features] sequence of noise with the visual events drawn in.</summary>
    internal static float[,] Visual(Random random, ControlledBenchmarkOptions options, IReadOnlyList<double> eventTimes, IReadOnlyList<float> amplitudes)
    {
        var frames = Noise(random, options.VisualLength, options.VisualFeatures, options.NoiseStd);
        int channels = Math.Min(VisualEventChannels, options.VisualFeatures);
        for (int e = 0; e < eventTimes.Count; e++) AddEvent(frames, eventTimes[e], amplitudes[e], channels, options);
        return frames;
    }

    /// <summary>
    /// A [length, features] sequence of noise with the acoustic events drawn in and the intensity level written as a
    /// constant offset of the last channel (levels are centred on zero).
    /// </summary>
    internal static float[,] Acoustic(Random random, ControlledBenchmarkOptions options, IReadOnlyList<double> eventTimes, IReadOnlyList<float> amplitudes, int intensityLevel)
    {
        var frames = Noise(random, options.AcousticLength, options.AcousticFeatures, options.NoiseStd);
        int channels = Math.Min(AcousticEventChannels, options.AcousticFeatures - 1);
        for (int e = 0; e < eventTimes.Count; e++) AddEvent(frames, eventTimes[e], amplitudes[e], channels, options);

        int intensityChannel = options.AcousticFeatures - 1;
        float offset = (intensityLevel - (options.IntensityScales.Length - 1) / 2f) * options.IntensityStep;
        for (int t = 0; t < frames.GetLength(0); t++) frames[t, intensityChannel] += offset;
        return frames;
    }

    /// <summary>Frame index of a time given as a fraction of the clip.</summary>
    internal static int FrameOf(double time, int length) => (int)Math.Round(time * (length - 1));

    private static void AddEvent(float[,] frames, double centre, float amplitude, int channels, ControlledBenchmarkOptions options)
    {
        int length = frames.GetLength(0);
        double halfWidth = options.EventDuration / 2;
        for (int t = 0; t < length; t++)
        {
            double distance = Math.Abs((double)t / (length - 1) - centre);
            if (distance >= halfWidth) continue;
            // Raised cosine: 1 at the centre, 0 at the edges; short sequences still get at least the centre frame.
            float envelope = (float)(0.5 * (1 + Math.Cos(Math.PI * distance / halfWidth)));
            for (int c = 0; c < channels; c++) frames[t, c] += amplitude * envelope;
        }
        int centreFrame = FrameOf(centre, length);
        if (Math.Abs((double)centreFrame / (length - 1) - centre) >= halfWidth)
            for (int c = 0; c < channels; c++) frames[centreFrame, c] += amplitude;
    }

    private static float[,] Noise(Random random, int length, int features, float std)
    {
        var frames = new float[length, features];
        for (int t = 0; t < length; t++)
            for (int f = 0; f < features; f++)
                frames[t, f] = std * Gaussian(random);
        return frames;
    }

    // Box-Muller; 1 - NextDouble() keeps the logarithm's argument in (0, 1].
    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
