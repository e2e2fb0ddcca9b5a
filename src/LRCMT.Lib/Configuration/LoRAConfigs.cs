using LRCMT.LowRank;

namespace LRCMT.Configuration;

/// <summary>Deep copy and content equality of <see cref="LoRAConfig"/> (whose record equality compares its lists by reference).</summary>
internal static class LoRAConfigs
{
    public static LoRAConfig Copy(LoRAConfig config) => config with
    {
        TargetModules = [.. config.TargetModules ?? []],
        ExcludeModules = [.. config.ExcludeModules ?? []],
        ModulesToSave = [.. config.ModulesToSave ?? []],
        LayersToTransform = config.LayersToTransform is null ? null : [.. config.LayersToTransform],
        RankPattern = new(config.RankPattern ?? []),
        AlphaPattern = new(config.AlphaPattern ?? []),
    };

    public static bool ContentEquals(LoRAConfig? a, LoRAConfig? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        // Compare the scalars through the record's own equality, with the collections made identical first.
        var scalarsOfB = b with
        {
            TargetModules = a.TargetModules, ExcludeModules = a.ExcludeModules, ModulesToSave = a.ModulesToSave,
            LayersToTransform = a.LayersToTransform, RankPattern = a.RankPattern, AlphaPattern = a.AlphaPattern,
        };
        return a == scalarsOfB
            && Same(a.TargetModules, b.TargetModules) && Same(a.ExcludeModules, b.ExcludeModules) && Same(a.ModulesToSave, b.ModulesToSave)
            && Same(a.LayersToTransform, b.LayersToTransform) && Same(a.RankPattern, b.RankPattern) && Same(a.AlphaPattern, b.AlphaPattern);
    }

    public static int ContentHash(LoRAConfig? config)
    {
        if (config is null) return 0;
        var hash = new HashCode();
        hash.Add(config.Rank);
        hash.Add(config.Alpha);
        hash.Add(config.Dropout);
        hash.Add(config.UseRsLora);
        hash.Add(config.UseDora);
        hash.Add(config.TargetRegex);
        foreach (var target in config.TargetModules ?? []) hash.Add(target);
        return hash.ToHashCode();
    }

    private static bool Same<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) =>
        a is null || b is null ? a is null && b is null : a.SequenceEqual(b);

    private static bool Same<TValue>(IReadOnlyDictionary<string, TValue>? a, IReadOnlyDictionary<string, TValue>? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && EqualityComparer<TValue>.Default.Equals(kv.Value, v));
}
