using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// Keeps the effective weights of substituted layers current: a forward pre-hook on the model's root rebuilds them
/// whenever the root is invoked with <c>.call(...)</c>; <see cref="RefreshAll"/> does the same by hand for callers
/// that use <c>.forward(...)</c> (which runs no hooks).
/// </summary>
internal static class AdapterRefresh
{
    // Roots that already carry the hook (weakly held, so a disposed model is not kept alive).
    private static readonly ConditionalWeakTable<nn.Module, object> Hooked = new();

    /// <summary>Layers of <paramref name="model"/> that take their weight by substitution.</summary>
    public static List<SubstitutedLinear> LayersOf(nn.Module model)
        => model.modules().Prepend(model).OfType<SubstitutedLinear>().ToList();

    /// <summary>Rebuilds every substituted layer, then throws if any backward since the last refresh used stale weights.</summary>
    /// <returns>How many layers were refreshed.</returns>
    public static int RefreshAll(nn.Module model)
    {
        var layers = LayersOf(model);
        var stale = new List<(string Path, string Problem)>();
        foreach (var layer in layers)
        {
            if (layer.TakeProblem() is { } problem) stale.Add((layer.Path, problem));
            layer.Refresh(throwIfStale: false);
        }
        if (stale.Count > 0) throw new Errors.StaleAdapterWeightsException(stale.Select(s => s.Path).ToList(), stale[0].Problem);
        return layers.Count;
    }

    /// <summary>Rebuilds every substituted layer without reporting earlier stale-weight errors (after the adapters were overwritten).</summary>
    public static void RefreshQuietly(nn.Module model)
    {
        foreach (var layer in LayersOf(model)) layer.Refresh(throwIfStale: false);
    }

    /// <summary>
    /// Registers the refreshing pre-hook on <paramref name="root"/> once. Returns false when the root's type has no
    /// forward pre-hooks (it does not derive from a TorchSharp <c>Module&lt;…&gt;</c>), so only explicit refreshes work.
    /// </summary>
    public static bool EnsureHooked(nn.Module root)
    {
        if (Hooked.TryGetValue(root, out _)) return true;
        var register = root.GetType().GetMethod("register_forward_pre_hook", BindingFlags.Instance | BindingFlags.Public, [typeof(Action<nn.Module>)]);
        if (register is null) return false;
        register.Invoke(root, [(Action<nn.Module>)(m => RefreshAll(m))]);
        Hooked.Add(root, new object());
        return true;
    }
}
