using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

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

    /// <summary>Runs <paramref name="model"/> without gradients over every batch of <paramref name="loader"/> (in eval mode, restored after).</summary>
    /// <exception cref="InvalidInputException">A batch has no labels.</exception>
    /// <exception cref="ShapeMismatchException">The model does not return one score per sample.</exception>
    public static SamplePredictions Collect(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        bool wasTraining = model.training;
        model.eval();
        var predictions = new List<float>(loader.SampleCount);
        var truths = new List<float>(loader.SampleCount);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    var labels = batch.Labels ?? throw new InvalidInputException("evaluation batch", "it has no labels.");
                    var input = device.type == DeviceType.CPU ? batch : batch.To(device);
                    var output = model.call(input);
                    if (output.numel() != batch.Size)
                        throw new ShapeMismatchException("model output", $"[{batch.Size}] (one regression score per sample)", output.shape);
                    predictions.AddRange(output.reshape(-1).to(ScalarType.Float32).cpu().data<float>().ToArray());
                    truths.AddRange(labels.to(ScalarType.Float32).data<float>().ToArray());
                    if (!ReferenceEquals(input, batch)) input.Dispose();
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return new SamplePredictions(predictions.ToArray(), truths.ToArray());
    }
}
