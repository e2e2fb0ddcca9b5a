using System.Runtime.CompilerServices;

namespace LRCMT.LowRank;

/// <summary>
/// Remembers the configuration each adapter was created with (its initialisation, bias mode, task type, layer
/// filters…), so an adapter file can state them truthfully. Kept beside the layers rather than in them, so the
/// layers stay plain math; entries vanish with their layer.
/// </summary>
internal static class AdapterOrigins
{
    private static readonly ConditionalWeakTable<LoRALayer, Dictionary<string, LoRAConfig>> Configs = new();

    public static void Record(LoRALayer layer, string adapterName, LoRAConfig config)
    {
        var byName = Configs.GetOrCreateValue(layer);
        lock (byName) byName[adapterName] = config with { };
    }

    public static LoRAConfig? Find(LoRALayer layer, string adapterName)
    {
        if (!Configs.TryGetValue(layer, out var byName)) return null;
        lock (byName) return byName.TryGetValue(adapterName, out var config) ? config : null;
    }

    public static void Forget(LoRALayer layer, string adapterName)
    {
        if (!Configs.TryGetValue(layer, out var byName)) return;
        lock (byName) byName.Remove(adapterName);
    }
}
