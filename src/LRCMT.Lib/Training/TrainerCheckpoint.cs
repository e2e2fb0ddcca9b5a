using System.Text.Json;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

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
    private const string RngKey = "rng/cpu";

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
        tensors.Add(new(RngKey, torch.get_rng_state()));

        var json = new CheckpointJson(FormatVersion, trainable.Select(t => t.Name).ToList(), moments.Select(m => m.step).ToList(),
            state.Epoch, state.BatchInEpoch, state.Step, state.EpochLossSum, state.EpochLossCount,
            state.BestEpoch, double.IsNaN(state.BestValue) ? null : state.BestValue, state.EpochsWithoutImprovement,
            state.History.Select(h => new EpochJson(h.Epoch, h.TrainLoss, h.ValidationLoss,
                h.Validation.Values.ToDictionary(), h.Validation.Undefined.ToDictionary())).ToList());
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { [StateKey] = JsonSerializer.Serialize(json) });
    }

    /// <summary>Restores parameters, optimizer moments and the generator; returns the run position.</summary>
    /// <remarks>Every tensor goes through <see cref="StateDictLoader.CopyStrict"/> (name, shape and dtype), and the
    /// generator state is checked against this libtorch's own before <c>set_rng_state</c>, which aborts the process on a
    /// wrong one instead of throwing.</remarks>
    public static TrainerState Load(string path, IReadOnlyList<(string Name, Parameter Param)> trainable, optim.Optimizer optimizer)
    {
        var header = SafetensorsFile.ReadHeader(path);
        var json = ReadJson(path, header);

        var expected = trainable.Select(t => t.Name).ToList();
        if (!json.Parameters.SequenceEqual(expected))
            throw new CheckpointMismatchException(path, expected.Except(json.Parameters).ToList(), json.Parameters.Except(expected).ToList(),
                expected.Count == json.Parameters.Count && expected.ToHashSet().SetEquals(json.Parameters) ? ["trainable parameters are in a different order"] : []);
        if (json.OptimizerSteps.Count != expected.Count || json.OptimizerSteps.Any(s => s < 0))
            throw new CorruptFileException(path, null, $"'{StateKey}.OptimizerSteps' has {json.OptimizerSteps.Count} entries for {expected.Count} trainable parameters (or a negative step)");

        var tensors = SafetensorsFile.Load(path);
        try
        {
            var moments = AdamStates(optimizer, trainable.Count);
            var targets = new List<(string Key, Tensor Target)>();
            foreach (var (name, param) in trainable) targets.Add(($"model/{name}", param));
            for (int i = 0; i < moments.Count; i++)
            {
                targets.Add(($"optimizer/{i}/exp_avg", moments[i].exp_avg));
                targets.Add(($"optimizer/{i}/exp_avg_sq", moments[i].exp_avg_sq));
            }
            CheckRngState(path, tensors.GetValueOrDefault(RngKey));
            StateDictLoader.CopyStrict(targets, tensors, path, key => key == RngKey);
            for (int i = 0; i < moments.Count; i++) moments[i].step = json.OptimizerSteps[i];
            torch.set_rng_state(tensors[RngKey]);
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

    /// <summary>The generator state must be a uint8 vector as long as this libtorch's own.</summary>
    private static void CheckRngState(string path, Tensor? rng)
    {
        if (rng is null) throw new CorruptFileException(path, null, $"trainer checkpoint has no '{RngKey}' tensor (the random generator state)");
        using var own = torch.get_rng_state();
        if (rng.dtype != ScalarType.Byte || !rng.shape.SequenceEqual(own.shape))
            throw new CorruptFileException(path, null,
                $"'{RngKey}' is a {rng.dtype} tensor of shape {ShapeMismatchException.Format(rng.shape)}, but this libtorch's CPU generator state is " +
                $"{own.dtype} {ShapeMismatchException.Format(own.shape)} (written by another libtorch build?)");
        // libtorch also aborts (c10::Error thrown through the C API) when the Mersenne Twister fields are out of range,
        // so those are checked too, where this libtorch's own state shows the layout is the one described below.
        var ownBytes = own.bytes.ToArray();
        var bytes = rng.contiguous().bytes.ToArray();
        if (MersenneProblem(ownBytes) is null && MersenneProblem(bytes) is { } problem)
            throw new CorruptFileException(path, null, $"'{RngKey}' is not a valid CPU generator state: {problem}");
    }

    /// <summary>
    /// The checks libtorch's <c>mt19937::is_valid</c> makes, on its state struct (seed u64, left i32, seeded i32,
    /// next u64, then the 624-word state): 1 ≤ left ≤ 624, seeded ≠ 0, (u32)next ≤ 624. Null when they pass.
    /// </summary>
    private static string? MersenneProblem(byte[] state)
    {
        const int StateWords = 624;
        if (state.Length < 24) return $"it is {state.Length} bytes long";
        int left = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(8));
        int seeded = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(12));
        uint next = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(state.AsSpan(16));
        if (left is < 1 or > StateWords) return $"its 'left' counter is {left}, outside [1, {StateWords}]";
        if (seeded == 0) return "it is marked as never seeded";
        if (next > StateWords) return $"its 'next' index is {next}, past {StateWords}";
        return null;
    }

    /// <summary>Parses and checks the metadata JSON: every field present and in range.</summary>
    private static CheckpointJson ReadJson(string path, SafetensorsHeader header)
    {
        if (!header.Metadata.TryGetValue(StateKey, out var text))
            throw new CorruptFileException(path, null, $"not a trainer checkpoint: the safetensors metadata has no '{StateKey}' entry");
        CheckpointJson? json;
        try { json = JsonSerializer.Deserialize<CheckpointJson>(text); }
        catch (JsonException e) { throw new CorruptFileException(path, null, $"the '{StateKey}' metadata is not valid: {e.Message}", e); }
        if (json is null) throw new CorruptFileException(path, null, $"the '{StateKey}' metadata is empty");
        if (json.Format != FormatVersion)
            throw new CorruptFileException(path, null, $"trainer checkpoint format {json.Format} is not the supported {FormatVersion}");
        string? bad = json switch
        {
            { Parameters: null } or { OptimizerSteps: null } or { History: null } => "Parameters, OptimizerSteps or History is missing",
            _ when json.Parameters.Any(p => p is null) => "a parameter name is null",
            _ when json.Epoch < 0 || json.BatchInEpoch < 0 || json.Step < 0 || json.EpochLossCount < 0 || json.EpochsWithoutImprovement < 0 => "a counter is negative",
            _ when json.BestEpoch < -1 || json.BestEpoch >= json.Epoch + 1 => $"BestEpoch {json.BestEpoch} is outside [-1, {json.Epoch}]",
            _ when json.History.Any(h => h is null || h.Metrics is null || h.Undefined is null) => "an epoch summary is incomplete",
            _ => null,
        };
        return bad is null ? json : throw new CorruptFileException(path, null, $"the '{StateKey}' metadata is inconsistent: {bad}");
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
