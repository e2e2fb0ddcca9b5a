using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>Runs a model over a loader without gradients and scores it with the objective's metrics and loss.</summary>
internal static class EvaluationLoop
{
    /// <param name="model">The model, evaluated in eval mode (its mode is restored afterwards).</param>
    /// <param name="loader">The batches to score.</param>
    /// <param name="objective">Regression or classification outputs, loss and metrics.</param>
    /// <param name="during">
    /// The training position when evaluating after an epoch: non-finite outputs then mean the run diverged
    /// (<see cref="NonFiniteLossException"/>, the last checkpoint kept); in a standalone evaluation they are an invalid model output.
    /// </param>
    public static (MetricResults Metrics, double Loss) Run(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader loader, TrainingObjective objective,
        (int Epoch, long Step)? during = null)
    {
        var scores = new List<float>(loader.SampleCount);
        var truths = new List<float>(loader.SampleCount);
        var predictedClasses = new List<int>(loader.SampleCount);
        var trueClasses = new List<int>(loader.SampleCount);
        double lossSum = 0;
        long count = 0;
        ForEachBatch(model, loader, (batch, input, labels) =>
        {
            var outputs = objective.Outputs(model, input).cpu();
            var values = outputs.data<float>().ToArray();
            if (Array.FindIndex(values, v => !float.IsFinite(v)) is var bad and >= 0)
            {
                long row = bad / Math.Max(1, values.Length / batch.Size);
                throw during is { } at
                    ? new NonFiniteLossException(at.Epoch, at.Step, values[bad], batch.Ids, inValidation: true)
                    : new InvalidInputException("model output", $"the prediction for sample '{batch.Ids[(int)row]}' is {values[bad]}.");
            }
            lossSum += objective.LossSum(outputs, labels, "evaluation labels");
            count += batch.Size;
            if (objective.Classes is null)
            {
                scores.AddRange(values);
                truths.AddRange(labels.to(ScalarType.Float32).data<float>().ToArray());
            }
            else
            {
                predictedClasses.AddRange(outputs.argmax(1).data<long>().ToArray().Select(c => (int)c));
                trueClasses.AddRange(objective.ClassLabels(labels, "evaluation labels").data<long>().ToArray().Select(c => (int)c));
            }
        });
        return (objective.Metrics(scores, truths, predictedClasses, trueClasses), count == 0 ? double.NaN : lossSum / count);
    }

    /// <summary>
    /// The pass every evaluation shares: <paramref name="model"/> in eval mode (its mode restored afterwards, also when a
    /// batch throws), no gradients, each batch of <paramref name="loader"/> in its own dispose scope, moved to the model's
    /// device, handed to <paramref name="score"/> with its labels on the CPU.
    /// </summary>
    /// <exception cref="InvalidInputException">A batch has no labels.</exception>
    public static void ForEachBatch(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader loader,
        Action<MultimodalBatch, MultimodalBatch, Tensor> score)
    {
        bool wasTraining = model.training;
        model.eval();
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    var labels = (batch.Labels ?? throw new InvalidInputException("evaluation batch", "it has no labels.")).cpu();
                    var input = device.type == DeviceType.CPU ? batch : batch.To(device);
                    try
                    {
                        score(batch, input, labels);
                    }
                    finally
                    {
                        if (!ReferenceEquals(input, batch)) input.Dispose();
                    }
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
