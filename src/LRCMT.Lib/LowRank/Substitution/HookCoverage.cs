using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// Decides, for a layer adapted in place, which module's refresh hook will rebuild its weight before it is used: the
/// nearest module on its path (the adapted module itself, then each ancestor, then the root) that runs TorchSharp's
/// hooks as the model invokes it — a child counts when its parent's code invokes it with TorchSharp's
/// <c>Module.call</c> (<see cref="CallSites"/>), the root when its type runs hooks in <c>call</c> (the documented way
/// to invoke a model). When none does, it says why, one clause per module on the path.
/// </summary>
internal static class HookCoverage
{
    /// <summary>How one module on a layer's path is invoked, when that runs no hooks.</summary>
    internal enum Gap { ForwardCall, OwnCall, NoHooks, NotFound }

    /// <summary>Why one module on the path runs no refresh hook.</summary>
    /// <param name="Kind">How it is invoked.</param>
    /// <param name="Path">Its path ("" for the root).</param>
    /// <param name="ModuleType">Its type's name.</param>
    /// <param name="Invoker">The type (or method) that invokes it; for the root, its own call method or null.</param>
    internal sealed record Clause(Gap Kind, string Path, string ModuleType, string? Invoker);

    /// <summary>The outcome for one layer.</summary>
    /// <param name="RefreshedBy">Path of the nearest module whose <c>.call</c> rebuilds the layer ("" for the root), or null.</param>
    /// <param name="Why">When <paramref name="RefreshedBy"/> is null: a clause for each module on the path, root first.</param>
    internal sealed record Result(string? RefreshedBy, IReadOnlyList<Clause> Why);

    /// <summary>The outcome for the layer at <paramref name="layerPath"/>, whose parent invokes <paramref name="adapted"/>.</summary>
    /// <param name="modules">Every module of the model by path, the root as "".</param>
    /// <param name="layerPath">The layer's path.</param>
    /// <param name="adapted">The module its parent invokes (the adapted module itself).</param>
    public static Result Of(IReadOnlyDictionary<string, nn.Module> modules, string layerPath, nn.Module adapted)
    {
        var why = new List<Clause>();
        var candidates = new List<(string Path, nn.Module Module)> { (layerPath, adapted) };
        for (var path = ParentOf(layerPath); path is { Length: > 0 }; path = ParentOf(path))
            if (!IsContainer(modules[path])) candidates.Add((path, modules[path]));

        foreach (var (path, module) in candidates)
        {
            var invoker = modules[InvokerPathOf(modules, path)];
            if (!AdapterRefresh.CanHook(module))
            {
                why.Add(new Clause(Gap.NoHooks, path, RefreshGaps.NameOf(module.GetType()), RefreshGaps.NameOf(invoker.GetType())));
                continue;
            }
            var (how, method) = HowInvoked(invoker, module);
            if (how is null) return new Result(path, []);
            why.Add(new Clause(how.Value, path, RefreshGaps.NameOf(module.GetType()),
                how == Gap.OwnCall ? $"{RefreshGaps.NameOf(method!.DeclaringType!)}.{method.Name}" : RefreshGaps.NameOf(invoker.GetType())));
        }

        var root = modules[""];
        var rootType = RefreshGaps.NameOf(root.GetType());
        if (!AdapterRefresh.CanHook(root)) why.Add(new Clause(Gap.NoHooks, "", rootType, null));
        else if (OwnCallOf(root.GetType()) is { } own) why.Add(new Clause(Gap.OwnCall, "", rootType, $"{RefreshGaps.NameOf(own.DeclaringType!)}.{own.Name}"));
        else return new Result("", []);
        why.Reverse();
        return new Result(null, why);
    }

    /// <summary>The <c>call</c> a module type declares itself that does not go through TorchSharp's hooked <c>call</c>, or null.</summary>
    public static MethodInfo? OwnCallOf(Type type)
    {
        try
        {
            return FindOwnCall(type);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    private static MethodInfo? FindOwnCall(Type type)
    {
        for (var current = type; current is not null && !CallSites.IsTorchSharpBase(current) && current != typeof(object); current = current.BaseType)
            foreach (var method in current.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly))
                if (method.Name == "call" && !RunsHooks(method, depth: 0)) return method;
        return null;
    }

    /// <summary>
    /// How <paramref name="invoker"/>'s code invokes <paramref name="child"/>: null when through TorchSharp's hooked
    /// <c>call</c> at least once; else the gap (and, for an own call, the method).
    /// </summary>
    private static (Gap? How, MethodInfo? Method) HowInvoked(nn.Module invoker, nn.Module child)
    {
        try
        {
            return ReadHowInvoked(invoker, child);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reflection over a type this reader cannot follow: say so rather than fail the injection.
            return (Gap.NotFound, null);
        }
    }

    private static (Gap? How, MethodInfo? Method) ReadHowInvoked(nn.Module invoker, nn.Module child)
    {
        var direct = new List<FieldInfo>();
        var containing = new List<FieldInfo>();
        foreach (var field in CallSites.FieldsOf(invoker.GetType()))
        {
            var value = field.GetValue(invoker);
            if (ReferenceEquals(value, child)) direct.Add(field);
            else if (value is not null && Contains(value, child)) containing.Add(field);
        }

        var sites = CallSites.Of(invoker.GetType());
        var relevant = sites.Where(s => s.Receiver switch
        {
            CallSites.FieldSource f => direct.Any(d => CallSites.SameField(d, f.Field)),
            CallSites.ElementSource e => containing.Any(c => CallSites.SameField(c, e.Field)),
            _ => false,
        }).ToList();
        // Receivers the reader could not follow (lambdas, helpers): any invocation a child of this type could receive.
        if (relevant.Count == 0)
            relevant = sites.Where(s => s.Receiver == CallSites.Source.Unknown && s.Target.DeclaringType!.IsInstanceOfType(child)).ToList();
        if (relevant.Count == 0) return (Gap.NotFound, null);

        MethodInfo? own = null;
        foreach (var site in relevant.Where(s => s.Target.Name == "call"))
        {
            var implementation = Implementation(site.Target, child.GetType());
            if (RunsHooks(implementation, depth: 0)) return (null, null);
            own ??= implementation;
        }
        return own is null ? (Gap.ForwardCall, null) : (Gap.OwnCall, own);
    }

    /// <summary>The method that runs when <paramref name="target"/> is invoked on an object of <paramref name="runtimeType"/>.</summary>
    private static MethodInfo Implementation(MethodInfo target, Type runtimeType)
    {
        if (target.DeclaringType is { IsInterface: true } contract && contract.IsAssignableFrom(runtimeType))
        {
            var map = runtimeType.GetInterfaceMap(contract);
            int index = Array.FindIndex(map.InterfaceMethods, m => m.MetadataToken == target.MetadataToken && m.Module == target.Module);
            return index >= 0 ? map.TargetMethods[index] : target;
        }
        if (!target.IsVirtual || target.IsFinal) return target;
        var baseDefinition = target.GetBaseDefinition();
        for (var type = runtimeType; type is not null; type = type.BaseType)
            foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (method.Name == target.Name && method.GetBaseDefinition() == baseDefinition) return method;
        return target;
    }

    /// <summary>
    /// Whether <paramref name="method"/> is TorchSharp's hooked <c>Module&lt;…&gt;.call</c>, or a <c>call</c> whose body
    /// invokes it on the same object (ManagedMultiheadAttention.call forwards to base.call; one overload to another).
    /// </summary>
    private static bool RunsHooks(MethodInfo method, int depth)
    {
        if (IsHookedCall(method)) return true;
        if (depth > 2) return false;
        return CallSites.Read(method).Any(s => s.Target.Name == "call" && s.Receiver == CallSites.Source.This && s.Target != method && RunsHooks(s.Target, depth + 1));
    }

    private static bool IsHookedCall(MethodInfo method)
        => method.Name == "call" && method.DeclaringType is { IsGenericType: true } type && type.Assembly == typeof(nn.Module).Assembly
           && type.GetGenericTypeDefinition().DeclaringType == typeof(nn) && type.GetGenericTypeDefinition().Name.StartsWith("Module`", StringComparison.Ordinal);

    /// <summary>A module that is only a holder of others (ModuleList, ModuleDict): it is never invoked itself.</summary>
    private static bool IsContainer(nn.Module module)
    {
        if (AdapterRefresh.CanHook(module)) return false;
        for (var type = module.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
            if (type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Any(m => m.Name is "call" or "forward")) return false;
        return true;
    }

    /// <summary>The path of the nearest ancestor of <paramref name="path"/> that is not a container: the module whose code invokes it.</summary>
    private static string InvokerPathOf(IReadOnlyDictionary<string, nn.Module> modules, string path)
    {
        var parent = ParentOf(path)!;
        while (parent.Length > 0 && IsContainer(modules[parent])) parent = ParentOf(parent)!;
        return parent;
    }

    private static string? ParentOf(string path) => path.Length == 0 ? null : path.LastIndexOf('.') is var dot and >= 0 ? path[..dot] : "";

    /// <summary>Whether a collection-valued field holds <paramref name="child"/> (lists, arrays, ModuleList, ModuleDict's pairs).</summary>
    private static bool Contains(object value, object child)
    {
        if (value is Tensor or string || !IsCollection(value.GetType())) return false;
        foreach (var item in (IEnumerable)(value is IDictionary dictionary ? dictionary.Values : value))
        {
            if (ReferenceEquals(item, child)) return true;
            if (item is ITuple tuple)
                for (int i = 0; i < tuple.Length; i++)
                    if (ReferenceEquals(tuple[i], child)) return true;
        }
        return false;
    }

    // Only materialised collections are enumerated: a lazy sequence in a field could run arbitrary code.
    private static bool IsCollection(Type type)
        => type.IsArray || typeof(ICollection).IsAssignableFrom(type)
           || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d && (d == typeof(ICollection<>) || d == typeof(IReadOnlyCollection<>)));
}
