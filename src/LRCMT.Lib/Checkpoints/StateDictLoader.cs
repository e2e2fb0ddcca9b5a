using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Checkpoints;

/// <summary>
/// Copies a checkpoint into a module after checking every name and shape first. TorchSharp's own loaders broadcast
/// silently on shape mismatch; this one refuses, and lists all missing, unexpected and mis-shaped keys at once.
/// </summary>
public static class StateDictLoader
{
    /// <summary>
    /// Loads <paramref name="source"/> into <paramref name="module"/>'s parameters and buffers (values are copied and
    /// cast to each target's dtype and device). Nothing is copied unless every check passes.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="source">Checkpoint tensors by state-dict key.</param>
    /// <param name="sourceName">File or folder the tensors came from (used in error messages).</param>
    /// <param name="options">What may be missing or extra; strict by default.</param>
    /// <returns>Which keys were loaded, and which were present but skipped.</returns>
    /// <exception cref="CheckpointMismatchException">A required key is missing, an unexpected key is present, or a shape differs.</exception>
    public static StateDictLoadReport Load(
        nn.Module module,
        IReadOnlyDictionary<string, Tensor> source,
        string sourceName,
        StateDictLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        options ??= StateDictLoadOptions.Strict;

        var target = module.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k) && !options.MayBeMissing(k)).Order(StringComparer.Ordinal).ToList();
        var extra = source.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = extra.Where(k => !options.MayBeUnexpected(k)).ToList();
        var badShapes = new List<string>();
        foreach (var (key, value) in source)
        {
            if (target.TryGetValue(key, out var existing) && !existing.shape.SequenceEqual(value.shape))
                badShapes.Add($"{key}: expected {ShapeMismatchException.Format(existing.shape)} but got {ShapeMismatchException.Format(value.shape)}");
        }
        if (missing.Count > 0 || unexpected.Count > 0 || badShapes.Count > 0)
            throw new CheckpointMismatchException(sourceName, missing, unexpected, badShapes);

        var loaded = new List<string>();
        using (no_grad())
        {
            foreach (var (key, value) in source)
            {
                if (!target.TryGetValue(key, out var existing)) continue;
                existing.copy_(value);
                loaded.Add(key);
            }
        }
        return new StateDictLoadReport(loaded, extra, target.Keys.Where(k => !source.ContainsKey(k)).ToList());
    }
}

/// <summary>What a <see cref="StateDictLoader"/> load may tolerate.</summary>
/// <param name="MayBeMissing">Module keys allowed to be absent from the checkpoint (e.g. freshly initialised adapters).</param>
/// <param name="MayBeUnexpected">Checkpoint keys allowed to have no place in the module (e.g. task heads); they are skipped.</param>
public sealed record StateDictLoadOptions(Func<string, bool> MayBeMissing, Func<string, bool> MayBeUnexpected)
{
    /// <summary>Every module key must be present and every checkpoint key must be used.</summary>
    public static StateDictLoadOptions Strict { get; } = new(_ => false, _ => false);
}

/// <summary>The outcome of a successful <see cref="StateDictLoader.Load"/>.</summary>
/// <param name="LoadedKeys">Keys copied into the module.</param>
/// <param name="SkippedKeys">Checkpoint keys that were tolerated and not used.</param>
/// <param name="NotLoadedKeys">Module keys the checkpoint did not provide (tolerated as missing).</param>
public sealed record StateDictLoadReport(IReadOnlyList<string> LoadedKeys, IReadOnlyList<string> SkippedKeys, IReadOnlyList<string> NotLoadedKeys);
