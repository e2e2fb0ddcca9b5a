namespace LRCMT.Data.Synthetic;

/// <summary>The three splits of a generated controlled benchmark, with the ground truth of every sample.</summary>
/// <param name="Train">Training samples.</param>
/// <param name="Valid">Validation samples.</param>
/// <param name="Test">Test samples.</param>
/// <param name="Explanations">Ground truth for every sample of every split, keyed by sample id.</param>
/// <param name="Options">The options the benchmark was generated with.</param>
public sealed record ControlledBenchmarkSplits(
    IReadOnlyList<MultimodalSample> Train,
    IReadOnlyList<MultimodalSample> Valid,
    IReadOnlyList<MultimodalSample> Test,
    IReadOnlyDictionary<string, SampleExplanation> Explanations,
    ControlledBenchmarkOptions Options);
