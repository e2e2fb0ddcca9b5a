using System.Reflection;
using System.Runtime.CompilerServices;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// Keeps the effective weights of substituted layers current. TorchSharp runs a module's forward pre-hooks only when
/// the module is invoked with <c>.call(...)</c>, and which modules a model invokes that way is up to its code, so a
/// refreshing hook goes on every module that can carry one along the path to each layer:
/// <list type="bullet">
/// <item>the model's root rebuilds every layer on each call (so weights you overwrote by hand are picked up, as before);</item>
/// <item>every ancestor, and the module the layer adapts, rebuild the layers below them that a backward has run
/// through since they were built (an optimiser step may have changed A and B since) — cheap when nothing is due.</item>
/// </list>
/// So a model trains with an ordinary loop as long as any module on a layer's path is invoked with <c>.call</c>.
/// <see cref="RefreshAll"/> does the same by hand. Errors a backward recorded are raised by the next of these.
/// </summary>
internal static class AdapterRefresh
{
    /// <summary>What a module's hook refreshes.</summary>
    private sealed class HookState
    {
        public bool Everything;                         // the root: all layers below, unconditionally
        public bool Below;                              // an ancestor: layers below that may be stale
        public readonly List<SubstitutedLinear> Own = []; // the adapted module itself: its layer, if it may be stale
        public int Suspended;                           // > 0 while AsTrainable's wrapper has just refreshed everything
    }

    // Hooked modules (weakly held, so a disposed model is not kept alive).
    private static readonly ConditionalWeakTable<nn.Module, HookState> Hooks = new();

    /// <summary>Layers of <paramref name="model"/> that take their weight by substitution.</summary>
    public static List<SubstitutedLinear> LayersOf(nn.Module model)
        => model.modules().Prepend(model).OfType<SubstitutedLinear>().ToList();

    /// <summary>Rebuilds every substituted layer, then throws if any backward since the last refresh found a problem.</summary>
    /// <returns>How many layers were refreshed.</returns>
    /// <exception cref="NonFiniteAdapterWeightsException">Some adapter weights are not finite.</exception>
    /// <exception cref="StaleAdapterWeightsException">A forward used adapter weights from before the last change.</exception>
    public static int RefreshAll(nn.Module model)
    {
        var layers = LayersOf(model);
        Refresh(layers, onlyMaybeStale: false);
        return layers.Count;
    }

    /// <summary>Rebuilds every substituted layer without reporting earlier problems (after the adapters were overwritten).</summary>
    public static void RefreshQuietly(nn.Module model)
    {
        foreach (var layer in LayersOf(model)) layer.Refresh(throwIfStale: false);
    }

    /// <summary>
    /// Hooks <paramref name="root"/> (refreshes everything) and, for each of <paramref name="layers"/>, every one of its
    /// ancestors (refreshes what may be stale below it) and the module it adapts. Modules without
    /// hooks (not derived from a TorchSharp <c>Module&lt;…&gt;</c>) are skipped. Idempotent.
    /// </summary>
    public static void Install(nn.Module root, IEnumerable<(SubstitutedLinear Layer, IReadOnlyList<nn.Module> Ancestors)> layers)
    {
        if (StateFor(root) is { } rootState) rootState.Everything = true;
        foreach (var (layer, ancestors) in layers)
        {
            foreach (var ancestor in ancestors)
                if (!ReferenceEquals(ancestor, root) && StateFor(ancestor) is { } state) state.Below = true;
            if (StateFor(layer.Wrapped) is { } own && !own.Own.Contains(layer)) own.Own.Add(layer);
        }
    }

    /// <summary>
    /// Makes the root's own hook skip its rebuild until the result is disposed: the caller (the AsTrainable wrapper)
    /// has just refreshed everything.
    /// </summary>
    public static IDisposable SuspendRootHook(nn.Module root)
    {
        if (!Hooks.TryGetValue(root, out var state)) return NothingSuspended.Instance;
        Interlocked.Increment(ref state.Suspended);
        return new Resume(state);
    }

    /// <summary>Whether <paramref name="module"/>'s type offers TorchSharp's forward hooks (derives from a <c>Module&lt;…&gt;</c>).</summary>
    public static bool CanHook(nn.Module module) => RegisterMethod(module.GetType()) is not null;

    private static HookState? StateFor(nn.Module module)
    {
        if (Hooks.TryGetValue(module, out var existing)) return existing;
        if (RegisterMethod(module.GetType()) is not { } register) return null;
        var state = new HookState();
        register.Invoke(module, [(Action<nn.Module>)(m => OnCall(m, state))]);
        Hooks.Add(module, state);
        return state;
    }

    private static MethodInfo? RegisterMethod(Type type)
        => type.GetMethod("register_forward_pre_hook", BindingFlags.Instance | BindingFlags.Public, [typeof(Action<nn.Module>)]);

    private static void OnCall(nn.Module module, HookState state)
    {
        if (state.Everything)
        {
            if (Volatile.Read(ref state.Suspended) == 0) Refresh(LayersOf(module), onlyMaybeStale: false);
            return;
        }
        var layers = state.Below ? LayersOf(module) : [];
        foreach (var own in state.Own)
            if (!own.Released && !layers.Contains(own)) layers.Add(own);
        Refresh(layers, onlyMaybeStale: true);
    }

    private static void Refresh(IReadOnlyList<SubstitutedLinear> layers, bool onlyMaybeStale)
    {
        var nonFinite = new List<string>();
        var stale = new List<(string Path, string Problem)>();
        foreach (var layer in layers)
        {
            var problem = layer.TakeProblem();
            if (problem is { NonFinite: true }) nonFinite.Add(layer.Path);
            else if (problem is not null) stale.Add((layer.Path, problem.Message));
            if (!onlyMaybeStale || problem is not null || layer.MayBeStale) layer.Refresh(throwIfStale: false);
        }
        if (nonFinite.Count > 0) throw new NonFiniteAdapterWeightsException(nonFinite);
        if (stale.Count > 0) throw new StaleAdapterWeightsException(stale.Select(s => s.Path).ToList(), stale[0].Problem);
    }

    private sealed class Resume(HookState state) : IDisposable
    {
        private HookState? _state = state;

        public void Dispose()
        {
            if (_state is null) return;
            Interlocked.Decrement(ref _state.Suspended);
            _state = null;
        }
    }

    private sealed class NothingSuspended : IDisposable
    {
        public static readonly NothingSuspended Instance = new();

        public void Dispose() { }
    }
}
