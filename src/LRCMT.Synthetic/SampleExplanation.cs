namespace LRCMT.Data.Synthetic;

/// <summary>
/// The ground truth behind one controlled-benchmark sample: what the text says, which events were drawn into the
/// visual and acoustic sequences and when, and how the label follows from them. Lets tests and users recompute
/// every label independently of the generator.
/// </summary>
/// <param name="Id">The sample's <see cref="MultimodalSample.Id"/>.</param>
/// <param name="TextPolarity">Polarity p of the sentence alone, in [-3, 3].</param>
/// <param name="SentimentWord">The graded sentiment word of the sentence.</param>
/// <param name="Intensifier">The intensifier before the word ("very", "slightly", …), or null.</param>
/// <param name="Negated">Whether the sentence negates the word ("not …").</param>
/// <param name="Cue">Which cue the sample carries.</param>
/// <param name="VisualEventTimes">Centres of the visual events, as a fraction of the clip's duration in [0, 1].</param>
/// <param name="AcousticEventTimes">Centres of the acoustic events, as a fraction of the clip's duration in [0, 1].</param>
/// <param name="IntensityLevel">Index of the acoustic intensity level (into <see cref="ControlledBenchmarkOptions.IntensityScales"/>).</param>
/// <param name="IntensityScale">The factor that level applies to |label|.</param>
/// <param name="Label">The sample's label: ±p × scale, clipped to [-3, 3].</param>
public sealed record SampleExplanation(
    string Id,
    float TextPolarity,
    string SentimentWord,
    string? Intensifier,
    bool Negated,
    CueKind Cue,
    IReadOnlyList<double> VisualEventTimes,
    IReadOnlyList<double> AcousticEventTimes,
    int IntensityLevel,
    float IntensityScale,
    float Label)
{
    /// <summary>Peak height of each visual event, in the order of <see cref="VisualEventTimes"/>.</summary>
    public IReadOnlyList<float> VisualEventAmplitudes { get; init; } = [];

    /// <summary>Peak height of each acoustic event, in the order of <see cref="AcousticEventTimes"/>.</summary>
    public IReadOnlyList<float> AcousticEventAmplitudes { get; init; } = [];
}
