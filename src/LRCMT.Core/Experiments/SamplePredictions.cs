using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Experiments;

/// <summary>
/// A model's prediction for every sample of an evaluation split, with the truths, in the loader's order: what the
/// metrics are computed from, kept so two models tested on the same samples can be compared sample by sample.
/// </summary>
public sealed class SamplePredictions
{
    /// <summary>Creates the pair of arrays.</summary>
    /// <exception cref="InvalidInputException">Different lengths, no samples, or a NaN/infinite value.</exception>
    public SamplePredictions(float[] predictions, float[] truths)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(truths);
        if (predictions.Length != truths.Length)
            throw new InvalidInputException("sample predictions", $"expected one prediction per truth, got {predictions.Length} predictions and {truths.Length} truths.");
        if (predictions.Length == 0) throw new InvalidInputException("sample predictions", "there are no samples.");
        int bad = Array.FindIndex(predictions, v => !float.IsFinite(v));
        if (bad >= 0) throw new InvalidInputException("sample predictions", $"prediction {bad} is {predictions[bad]}.");
        bad = Array.FindIndex(truths, v => !float.IsFinite(v));
        if (bad >= 0) throw new InvalidInputException("sample predictions", $"truth {bad} is {truths[bad]}.");
        _predictions = predictions;
        _truths = truths;
    }

    private readonly float[] _predictions;
    private readonly float[] _truths;

    /// <summary>One regression score per sample.</summary>
    public IReadOnlyList<float> Predictions => _predictions;

    /// <summary>The labels, in the same order.</summary>
    public IReadOnlyList<float> Truths => _truths;

    /// <summary>Number of samples.</summary>
    public int Count => Truths.Count;

    /// <summary>MMSA's metrics of these predictions (<see cref="MsaMetrics.Compute(MsaDataset, ReadOnlySpan{float}, ReadOnlySpan{float})"/>).</summary>
    public MetricResults Metrics(MsaDataset dataset) => MsaMetrics.Compute(dataset, _predictions, _truths);
}
