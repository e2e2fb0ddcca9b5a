using System.Collections.Concurrent;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Interop;

/// <summary>
/// Frees what TorchSharp's custom autograd functions keep per call for nothing. TorchSharp 0.107's
/// <c>autograd.Function</c> allocates, on every call whose inputs need gradients, an uninitialised tensor shaped like
/// each output (<c>empty_like</c>) and holds it until the graph is freed, so that backward can be handed zeros for an
/// output that got no gradient ("materialize grads"). For a projection that is one activation-sized buffer per layer held
/// through the whole step: bert-base, batch 8 × 64, int8 base, 72 projections, ≈ 85 MiB.
/// </summary>
/// <remarks>
/// A function with a single output never needs those zeros: libtorch runs its backward only when that output received a
/// gradient. Such a function calls <see cref="ReleaseAfterApply"/> in forward and passes what <c>apply</c> returned
/// through <see cref="ReleasePending"/> (the buffers are made after forward). TorchSharp has no public way to do
/// this, so the buffers are reached by reflection on its internals; where they are not found (another TorchSharp
/// version) nothing is done and the function works as before, with the memory held. <see cref="IsSupported"/> says which,
/// and a test fails when a TorchSharp update changes it.
/// </remarks>
internal static class FunctionOutputCache
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;

    // AutogradContext._node: the Node<T> that made the context (its type depends on the function).
    private static readonly FieldInfo? NodeField = typeof(autograd.AutogradContext).GetField("_node", Instance);

    // Node<T>._outputCache per function type T.
    private static readonly ConcurrentDictionary<Type, FieldInfo?> CacheFields = new();

    // The call under way on this thread whose buffers are to be released once apply returns. One slot: the library's
    // functions do not call one another from forward.
    [ThreadStatic] private static autograd.AutogradContext? pending;

    /// <summary>Whether this TorchSharp keeps the buffers where <see cref="ReleasePending"/> looks for them.</summary>
    internal static bool IsSupported => NodeField is not null && NodeType()?.GetField("_outputCache", Instance) is not null;

    /// <summary>
    /// Called from the forward of a function with one output: turns TorchSharp's zeros for a missing gradient off (never
    /// needed) and marks the call's buffers for <see cref="ReleasePending"/>.
    /// </summary>
    internal static void ReleaseAfterApply(autograd.AutogradContext ctx)
    {
        ctx.set_materialize_grads(false);
        pending = ctx;
    }

    /// <summary>
    /// Called with what <c>apply</c> returned: disposes and forgets the output buffers of the call whose forward called
    /// <see cref="ReleaseAfterApply"/> on this thread (unless it turned the zeros back on), and returns <paramref name="output"/>.
    /// </summary>
    internal static Tensor ReleasePending(Tensor output)
    {
        var ctx = pending;
        pending = null;
        if (ctx is not null && !ctx.MaterializeGrads && Cache(ctx) is { } cache)
            for (int i = 0; i < cache.Count; i++)
            {
                cache[i]?.Dispose();
                cache[i] = null!;
            }
        return output;
    }

    /// <summary>How many output buffers the call that made <paramref name="ctx"/> still holds (0 once released; -1 where unsupported).</summary>
    internal static int Held(autograd.AutogradContext ctx) =>
        Cache(ctx) is { } cache ? cache.Count(t => t is not null && !t.IsInvalid) : -1;

    private static List<Tensor>? Cache(autograd.AutogradContext ctx)
    {
        if (NodeField?.GetValue(ctx) is not { } node) return null;
        var field = CacheFields.GetOrAdd(node.GetType(), type => type.GetField("_outputCache", Instance));
        return field?.GetValue(node) as List<Tensor>;
    }

    private static Type? NodeType() =>
        typeof(autograd.AutogradContext).Assembly.GetType("TorchSharp.torch+autograd+Node`1");
}
