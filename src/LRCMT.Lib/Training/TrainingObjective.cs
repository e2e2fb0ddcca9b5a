using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Configuration;
using LRCMT.Evaluation;
using LRCMT.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// What the trainer optimises and scores, decided by the model's head: one regression score per sample with L1 (or
/// MSE) and MMSA's regression metrics, or, for a <see cref="SentimentModel"/> (LRCMT or a baseline) with a classification head, its classes
/// (by the dataset's MMSA convention) with cross-entropy and MMSA's classification metrics. The class count is read
/// from the model, never kept a second time.
/// </summary>
internal sealed class TrainingObjective(TrainingLoss loss, MsaDataset dataset, SentimentClasses? classes)
{
    /// <summary>The objective of <paramref name="model"/> under <paramref name="options"/>, checking that the options fit its head.</summary>
    /// <exception cref="InvalidConfigurationException">The loss or the early-stopping metric does not fit the head, or the dataset has no convention for the head's class count.</exception>
    public static TrainingObjective For(nn.Module<MultimodalBatch, Tensor> model, TrainerOptions options)
    {
        var classes = ClassesOf(model, options.Dataset);
        var objective = new TrainingObjective(options.Loss ?? (classes is null ? TrainingLoss.L1 : TrainingLoss.CrossEntropy), options.Dataset, classes);
        var problems = SettingRules.Collect(
            classes is null && options.Loss == TrainingLoss.CrossEntropy
                ? new SettingProblem(nameof(TrainerOptions.Loss), "CrossEntropy needs a classification head (LrcmtOptions.Head.Kind), but the model's head is a regression head")
                : null,
            classes is not null && options.Loss is { } chosen && chosen != TrainingLoss.CrossEntropy
                ? new SettingProblem(nameof(TrainerOptions.Loss), $"must be CrossEntropy (or unset) for the model's classification head, got {chosen}")
                : null,
            options.EarlyStoppingMetric != TrainerOptions.LossMetric && !objective.MetricNames.Contains(options.EarlyStoppingMetric)
                ? new SettingProblem(nameof(TrainerOptions.EarlyStoppingMetric),
                    $"must be {TrainerOptions.LossMetric} or a metric of the model's {(classes is null ? "regression" : $"{classes.Count}-class")} head " +
                    $"({string.Join(", ", objective.MetricNames)}), got '{options.EarlyStoppingMetric}'")
                : null);
        SettingRules.ThrowIfAny("trainer options for this model", problems);
        return objective;
    }

    /// <summary>The objective an evaluation of <paramref name="model"/> on <paramref name="dataset"/> uses (the head's own loss).</summary>
    public static TrainingObjective For(nn.Module<MultimodalBatch, Tensor> model, MsaDataset dataset)
    {
        var classes = ClassesOf(model, dataset);
        return new TrainingObjective(classes is null ? TrainingLoss.L1 : TrainingLoss.CrossEntropy, dataset, classes);
    }

    /// <summary>The classes of a classification head, read from the model's description; null for a regression model.</summary>
    private static SentimentClasses? ClassesOf(nn.Module<MultimodalBatch, Tensor> model, MsaDataset dataset)
    {
        if (model is not SentimentModel { Options.Head: { Kind: HeadKind.Classification } head }) return null;
        var classes = new SentimentClasses(dataset, head.Classes);
        // The count is the head's (LrcmtOptions.Head.Classes): a problem with it is named there.
        SettingRules.ThrowIfAny("the model's classification head",
            classes.FindProblems().Select(p => p.Path == nameof(SentimentClasses.Count) ? p with { Path = "Head.Classes" } : p.Within("Head")).ToList());
        return classes;
    }

    public SentimentClasses? Classes => classes;

    /// <summary>The metric names this objective's evaluation reports.</summary>
    public IReadOnlyList<string> MetricNames => classes?.MetricNames ?? MsaMetrics.NamesFor(dataset);

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

    /// <summary>
    /// The class of each label: sentiment scores (what the collator makes) are mapped by the dataset's convention;
    /// int64 labels are taken as classes already.
    /// </summary>
    public Tensor ClassLabels(Tensor labels, string what)
    {
        if (labels.dtype == ScalarType.Int64) return labels;
        if (!labels.is_floating_point())
            throw new InvalidInputException(what, $"expected sentiment scores (floating point) or int64 classes, got {labels.dtype}.");
        var scores = labels.to(ScalarType.Float32).cpu().data<float>().ToArray();
        return tensor(scores.Select(s => classes!.ClassOf(s)).ToArray(), ScalarType.Int64).to(labels.device);
    }
}
