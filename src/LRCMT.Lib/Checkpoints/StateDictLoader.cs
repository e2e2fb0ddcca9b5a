using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Checkpoints;

/// <summary>
/// Copies a checkpoint into a module after checking every name, shape and dtype first (like PyTorch's
/// <c>load_state_dict(strict=True)</c>, but also refusing dtype changes). TorchSharp's own loaders broadcast and
/// cast silently; this one refuses, and lists all missing, unexpected, mis-shaped and mis-typed keys at once.
/// It is the one strict path every load in the library goes through: model weights, AdamW moments on resume and
/// best-epoch weights.
/// </summary>
public static class StateDictLoader
{
    /// <summary>
    /// Loads <paramref name="source"/> into <paramref name="module"/>'s parameters and buffers (values are copied onto
    /// each target's device). Nothing is copied unless every check passes.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="source">Checkpoint tensors by state-dict key.</param>
    /// <param name="sourceName">File or folder the tensors came from (used in error messages).</param>
    /// <param name="options">What may be missing or extra, and whether floating-point dtypes may be cast; strict by default.</param>
    /// <returns>Which keys were loaded, and which were present but skipped.</returns>
    /// <exception cref="CheckpointMismatchException">A required key is missing, an unexpected key is present, or a shape or dtype differs.</exception>
    public static StateDictLoadReport Load(
        nn.Module module,
        IReadOnlyDictionary<string, Tensor> source,
        string sourceName,
        StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= StateDictLoadOptions.Strict;

        var target = module.state_dict();
        var required = target.Where(kv => source.ContainsKey(kv.Key) || !options.MayBeMissing(kv.Key))
            .Select(kv => (kv.Key, kv.Value)).ToList();
        var extra = source.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var loaded = CopyStrict(required, source, sourceName, options.MayBeUnexpected, options.CastFloatingPoint);
        return new StateDictLoadReport(loaded, extra, target.Keys.Where(k => !source.ContainsKey(k)).ToList());
    }

    /// <summary>
    /// The shared strict copy: every target key must be in <paramref name="source"/> with the same shape and dtype
    /// (floating-point casts only when <paramref name="castFloatingPoint"/>), and every source key must be a target
    /// unless <paramref name="mayBeUnexpected"/> tolerates it. Checks everything, then copies; returns the copied keys.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">Any check fails; nothing has been copied.</exception>
    internal static IReadOnlyList<string> CopyStrict(
        IReadOnlyList<(string Key, Tensor Target)> targets,
        IReadOnlyDictionary<string, Tensor> source,
        string sourceName,
        Func<string, bool>? mayBeUnexpected = null,
        bool castFloatingPoint = false)
    {
        var targetKeys = targets.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var missing = targets.Where(t => !source.ContainsKey(t.Key)).Select(t => t.Key).Order(StringComparer.Ordinal).ToList();
        var unexpected = source.Keys.Where(k => !targetKeys.Contains(k) && !(mayBeUnexpected?.Invoke(k) ?? false))
            .Order(StringComparer.Ordinal).ToList();
        var mismatches = new List<string>();
        foreach (var (key, existing) in targets)
        {
            if (!source.TryGetValue(key, out var value)) continue;
            if (value is null) { mismatches.Add($"{key}: the checkpoint's tensor is null"); continue; }
            if (!existing.shape.SequenceEqual(value.shape))
                mismatches.Add($"{key}: expected {ShapeMismatchException.Format(existing.shape)} but got {ShapeMismatchException.Format(value.shape)}");
            else if (existing.dtype != value.dtype && !(castFloatingPoint && existing.is_floating_point() && value.is_floating_point()))
                mismatches.Add($"{key}: expected dtype {existing.dtype} but got {value.dtype}");
        }
        if (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0)
            throw new CheckpointMismatchException(sourceName, missing, unexpected, mismatches);

        using (no_grad())
            foreach (var (key, existing) in targets) existing.copy_(source[key]);
        return targets.Select(t => t.Key).ToList();
    }
}

/// <summary>What a <see cref="StateDictLoader"/> load may tolerate.</summary>
/// <param name="MayBeMissing">Module keys allowed to be absent from the checkpoint (e.g. freshly initialised adapters).</param>
/// <param name="MayBeUnexpected">Checkpoint keys allowed to have no place in the module (e.g. task heads); they are skipped.</param>
public sealed record StateDictLoadOptions(Func<string, bool> MayBeMissing, Func<string, bool> MayBeUnexpected)
{
    /// <summary>Every module key must be present, every checkpoint key must be used, and dtypes must match exactly.</summary>
    public static StateDictLoadOptions Strict { get; } = new(_ => false, _ => false);

    /// <summary>
    /// When true, a floating-point checkpoint tensor may fill a floating-point target of another precision (e.g. a
    /// float16 Hugging Face checkpoint into a float32 model); integer and bool dtypes must still match exactly.
    /// False (the default) refuses every dtype difference.
    /// </summary>
    public bool CastFloatingPoint { get; init; }
}

/// <summary>The outcome of a successful <see cref="StateDictLoader.Load"/>.</summary>
/// <param name="LoadedKeys">Keys copied into the module.</param>
/// <param name="SkippedKeys">Checkpoint keys that were tolerated and not used.</param>
/// <param name="NotLoadedKeys">Module keys the checkpoint did not provide (tolerated as missing).</param>
public sealed record StateDictLoadReport(IReadOnlyList<string> LoadedKeys, IReadOnlyList<string> SkippedKeys, IReadOnlyList<string> NotLoadedKeys);
