using LRCMT.Errors;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// Turns a PiSSA / OLoRA adapter into a plain LoRA adapter relative to the original W0, as PEFT's
/// <c>subtract_mutated_init</c> defines it: W0 = W_res + s·B₀·A₀ and the model computes W_res + s·B·A, so the update
/// relative to W0 is s·(B·A − B₀·A₀) = s·[B, −B₀]·[A; A₀] — rank 2r at the same scaling (alpha doubled, or ×√2 with
/// rsLoRA). Holds the initial A₀, B₀ (read from the adapter folder saved before training) and the tensors it builds.
/// </summary>
internal sealed class PrincipalConversion : IDisposable
{
    private readonly Dictionary<string, Tensor> _initial;
    private readonly List<Tensor> _built = [];

    private PrincipalConversion(Dictionary<string, Tensor> initial) => _initial = initial;

    /// <summary>Checks that the adapter can be converted and that <paramref name="initial"/> holds A₀ and B₀ of every layer, in the adapter's shapes.</summary>
    /// <param name="record">The adapter's record.</param>
    /// <param name="entries">The layers carrying the adapter.</param>
    /// <param name="adapterName">The adapter.</param>
    /// <param name="initial">The initial folder's tensors by file key (taken over: disposed with this object or on failure).</param>
    /// <param name="initialPath">The initial weights file (for messages).</param>
    /// <param name="prefix">PEFT's key prefix (<c>base_model.model.</c>).</param>
    public static PrincipalConversion Prepare(LoRAConfig record, IReadOnlyList<PeftKeyLayout.Entry> entries, string adapterName,
        Dictionary<string, Tensor> initial, string initialPath, string prefix)
    {
        try
        {
            if (record.UseDora)
                throw new AdapterException(null, $"adapter '{adapterName}' uses DoRA; converting it to a plain LoRA adapter relative to the original weight is not defined (PEFT converts lora_A and lora_B only).");
            if (record.UseRsLora && (record.RankPattern.Count > 0 || record.AlphaPattern.Count > 0))
                throw new AdapterException(null, $"adapter '{adapterName}' uses rsLoRA with rank or alpha patterns; doubling the rank then cannot keep every layer's scaling (PEFT refuses this conversion too).");
            var missing = new List<string>();
            var mismatched = new List<string>();
            foreach (var entry in entries)
                foreach (var (suffix, tensor) in entry.Layer.AdapterTensors(adapterName))
                {
                    if (suffix is not ("lora_A.weight" or "lora_B.weight")) continue;
                    var key = prefix + entry.FilePath + "." + suffix;
                    if (!initial.TryGetValue(key, out var start)) missing.Add(key);
                    else if (!start.shape.SequenceEqual(tensor.shape))
                        mismatched.Add($"{key}: expected {ShapeMismatchException.Format(tensor.shape)} (the adapter's) but got {ShapeMismatchException.Format(start.shape)}");
                }
            if (missing.Count > 0 || mismatched.Count > 0)
                throw new CheckpointMismatchException(initialPath, missing, [], mismatched);
            return new PrincipalConversion(initial);
        }
        catch
        {
            foreach (var tensor in initial.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>The tensor to write under <paramref name="key"/>: [A; A₀] for lora_A, [B, −B₀] for lora_B, else null (written as it is).</summary>
    public Tensor? Converted(string key, Tensor current)
    {
        if (!_initial.TryGetValue(key, out var start)) return null;
        Tensor result;
        using (no_grad())
            result = key.EndsWith(".lora_A.weight", StringComparison.Ordinal)
                ? cat([current.detach(), start.to(current.dtype, current.device)], 0)
                : key.EndsWith(".lora_B.weight", StringComparison.Ordinal)
                    ? cat([current.detach(), start.to(current.dtype, current.device).neg()], 1)
                    : current;
        if (ReferenceEquals(result, current)) return null;
        result.DetachFromDisposeScope();
        _built.Add(result);
        return result;
    }

    /// <summary>The converted adapter's configuration: rank 2r, the same scaling, a plain LoRA initialisation.</summary>
    public static LoRAConfig ConvertedConfig(LoRAConfig config) => config with
    {
        Init = LoRAInit.Default,
        PissaIterations = null,
        Rank = 2 * config.Rank,
        Alpha = config.UseRsLora ? config.Alpha * Math.Sqrt(2) : 2 * config.Alpha,
        RankPattern = config.RankPattern.ToDictionary(kv => kv.Key, kv => 2 * kv.Value),
        AlphaPattern = config.AlphaPattern.ToDictionary(kv => kv.Key, kv => 2 * kv.Value),
    };

    public void Dispose()
    {
        foreach (var tensor in _built) tensor.Dispose();
        foreach (var tensor in _initial.Values) tensor.Dispose();
        _built.Clear();
        _initial.Clear();
    }
}
