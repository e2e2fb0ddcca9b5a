using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// What the trainer optimises and scores, from <see cref="TrainerOptions.Loss"/> and <see cref="TrainerOptions.Classes"/>:
/// one regression score per sample with L1 or MSE and MMSA's regression metrics, or class logits with cross-entropy
/// and MMSA's classification metrics.
/// </summary>
internal sealed class TrainingObjective(TrainingLoss loss, MsaDataset dataset, SentimentClasses? classes)
{
    public static TrainingObjective Of(TrainerOptions options) => new(options.Loss, options.Dataset, options.Classes);

    public SentimentClasses? Classes => classes;

    /// <summary>The model's output for <paramref name="batch"/> as float32: [batch] scores or [batch, classes] logits.</summary>
    public Tensor Outputs(nn.Module<MultimodalBatch, Tensor> model, MultimodalBatch batch)
    {
        var output = model.call(batch);
        if (classes is null)
        {
            if (output.numel() != batch.Size)
                throw new ShapeMismatchException("model output", $"[{batch.Size}] (one regression score per sample)", output.shape);
            return output.reshape(-1).to(ScalarType.Float32);
        }
        if (output.dim() != 2 || output.shape[0] != batch.Size || output.shape[1] != classes.Count)
            throw new ShapeMismatchException("model output", $"[{batch.Size}, {classes.Count}] (one logit per class)", output.shape);
        return output.to(ScalarType.Float32);
    }

    /// <summary>The mean loss of a batch.</summary>
    public Tensor Loss(Tensor outputs, Tensor labels, string what) => loss switch
    {
        TrainingLoss.L1 => nn.functional.l1_loss(outputs, labels.to(outputs.dtype)),
        TrainingLoss.Mse => nn.functional.mse_loss(outputs, labels.to(outputs.dtype)),
        _ => nn.functional.cross_entropy(outputs, ClassLabels(labels, what)),
    };

    /// <summary>Sum of the per-sample losses of a batch, in double precision (for the evaluation mean).</summary>
    public double LossSum(Tensor outputs, Tensor labels, string what)
    {
        if (classes is not null)
            return nn.functional.cross_entropy(outputs, ClassLabels(labels, what), reduction: nn.Reduction.Sum).item<float>();
        var predictions = outputs.data<float>().ToArray();
        var truths = labels.to(ScalarType.Float32).cpu().data<float>().ToArray();
        double sum = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double error = predictions[i] - truths[i];
            sum += loss == TrainingLoss.Mse ? error * error : Math.Abs(error);
        }
        return sum;
    }

    /// <summary>MMSA's metrics of the collected outputs (scores, or argmax classes) against the truths.</summary>
    public MetricResults Metrics(List<float> scores, List<float> truths, List<int> predictedClasses, List<int> trueClasses) =>
        classes is null
            ? MsaMetrics.Compute(dataset, scores.ToArray(), truths.ToArray())
            : MsaMetrics.Compute(classes, predictedClasses.ToArray(), trueClasses.ToArray());

    private static Tensor ClassLabels(Tensor labels, string what) => labels.dtype == ScalarType.Int64
        ? labels
        : throw new InvalidInputException(what, $"cross-entropy needs int64 class labels but they are {labels.dtype}; create the MultimodalCollator with the SentimentClasses.");
}
