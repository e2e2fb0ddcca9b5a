using System.Text.Json;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// The resume state of a run in one safetensors file: the trainable parameters (<c>model/…</c>), AdamW's moments
/// (<c>optimizer/i/exp_avg</c>, <c>…/exp_avg_sq</c>, in parameter order), libtorch's CPU generator state
/// (<c>rng/cpu</c>) and, in the metadata, the step counters and early-stopping history as JSON.
/// Frozen weights are not stored: they come from the model the run is resumed with.
/// </summary>
internal static class TrainerCheckpoint
{
    private const string StateKey = "lrcmt.trainer";
    private const int FormatVersion = 1;

    public static void Save(string path, IReadOnlyList<(string Name, Parameter Param)> trainable, optim.Optimizer optimizer, TrainerState state)
    {
        using var scope = NewDisposeScope(); // collects the CPU copies made while writing
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, param) in trainable) tensors.Add(new($"model/{name}", param));
        var moments = AdamStates(optimizer, trainable.Count);
        for (int i = 0; i < moments.Count; i++)
        {
            tensors.Add(new($"optimizer/{i}/exp_avg", moments[i].exp_avg));
            tensors.Add(new($"optimizer/{i}/exp_avg_sq", moments[i].exp_avg_sq));
        }
        tensors.Add(new("rng/cpu", torch.get_rng_state()));

        var json = new CheckpointJson(FormatVersion, trainable.Select(t => t.Name).ToList(), moments.Select(m => m.step).ToList(),
            state.Epoch, state.BatchInEpoch, state.Step, state.EpochLossSum, state.EpochLossCount,
            state.BestEpoch, double.IsNaN(state.BestValue) ? null : state.BestValue, state.EpochsWithoutImprovement,
            state.History.Select(h => new EpochJson(h.Epoch, h.TrainLoss, h.ValidationLoss,
                h.Validation.Values.ToDictionary(), h.Validation.Undefined.ToDictionary())).ToList());
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { [StateKey] = JsonSerializer.Serialize(json) });
    }

    /// <summary>Restores parameters, optimizer moments and the generator; returns the run position.</summary>
    public static TrainerState Load(string path, IReadOnlyList<(string Name, Parameter Param)> trainable, optim.Optimizer optimizer)
    {
        var header = SafetensorsFile.ReadHeader(path);
        if (!header.Metadata.TryGetValue(StateKey, out var text))
            throw new CorruptFileException(path, null, $"not a trainer checkpoint: the safetensors metadata has no '{StateKey}' entry");
        var json = JsonSerializer.Deserialize<CheckpointJson>(text)
            ?? throw new CorruptFileException(path, null, $"the '{StateKey}' metadata is empty");
        if (json.Format != FormatVersion)
            throw new CorruptFileException(path, null, $"trainer checkpoint format {json.Format} is not the supported {FormatVersion}");

        var expected = trainable.Select(t => t.Name).ToList();
        if (!json.Parameters.SequenceEqual(expected))
            throw new CheckpointMismatchException(path, expected.Except(json.Parameters).ToList(), json.Parameters.Except(expected).ToList(),
                expected.Count == json.Parameters.Count && expected.ToHashSet().SetEquals(json.Parameters) ? ["trainable parameters are in a different order"] : []);

        var tensors = SafetensorsFile.Load(path);
        try
        {
            var shapes = new List<string>();
            foreach (var (name, param) in trainable)
                if (!tensors[$"model/{name}"].shape.SequenceEqual(param.shape))
                    shapes.Add($"{name}: expected {ShapeMismatchException.Format(param.shape)} but got {ShapeMismatchException.Format(tensors[$"model/{name}"].shape)}");
            if (shapes.Count > 0) throw new CheckpointMismatchException(path, [], [], shapes);

            var moments = AdamStates(optimizer, trainable.Count);
            using (no_grad())
            {
                foreach (var (name, param) in trainable) param.copy_(tensors[$"model/{name}"]);
                for (int i = 0; i < moments.Count; i++)
                {
                    moments[i].step = json.OptimizerSteps[i];
                    moments[i].exp_avg.copy_(tensors[$"optimizer/{i}/exp_avg"]);
                    moments[i].exp_avg_sq.copy_(tensors[$"optimizer/{i}/exp_avg_sq"]);
                }
            }
            torch.set_rng_state(tensors["rng/cpu"]);
        }
        catch (KeyNotFoundException e)
        {
            throw new CorruptFileException(path, null, $"trainer checkpoint is missing a tensor ({e.Message})", e);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }

        return new TrainerState
        {
            Epoch = json.Epoch, BatchInEpoch = json.BatchInEpoch, Step = json.Step,
            EpochLossSum = json.EpochLossSum, EpochLossCount = json.EpochLossCount,
            BestEpoch = json.BestEpoch, BestValue = json.BestValue ?? double.NaN, EpochsWithoutImprovement = json.EpochsWithoutImprovement,
            History = json.History.Select(h => new EpochSummary(h.Epoch, h.TrainLoss, h.ValidationLoss,
                new MetricResults(h.Metrics, h.Undefined))).ToList(),
        };
    }

    /// <summary>AdamW's per-parameter state, in the order of the parameter groups (which is <c>trainable</c>'s order).</summary>
    private static List<AdamW.State> AdamStates(optim.Optimizer optimizer, int expected)
    {
        var helper = optimizer as OptimizerHelper ?? throw new InvalidOperationException("The trainer's optimizer must be TorchSharp's managed AdamW.");
        var states = helper.state_dict().State.Cast<AdamW.State>().ToList();
        if (states.Count != expected) throw new InvalidOperationException($"AdamW holds {states.Count} parameter states for {expected} trainable parameters.");
        return states;
    }

    private sealed record CheckpointJson(
        int Format, List<string> Parameters, List<long> OptimizerSteps,
        int Epoch, int BatchInEpoch, long Step, double EpochLossSum, int EpochLossCount,
        int BestEpoch, double? BestValue, int EpochsWithoutImprovement, List<EpochJson> History);

    private sealed record EpochJson(int Epoch, double TrainLoss, double ValidationLoss, Dictionary<string, double> Metrics, Dictionary<string, string> Undefined);
}
