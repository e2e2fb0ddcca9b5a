using System.Collections;
using System.Reflection;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Utils;

namespace LRCMT.LowRank;

/// <summary>
/// Swaps one child module for another inside its parent. TorchSharp has no <c>set_submodule</c>, and a parent calls
/// its children through its own C# fields, so both places must change: the registered-children table (kept in
/// order, so state-dict keys keep their order) and every field, list or dictionary of the parent that refers to the
/// old child. Everything is checked before anything changes.
/// </summary>
internal static class ModuleReplacer
{
    private static readonly FieldInfo RegisteredChildren =
        typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("This TorchSharp version keeps child modules elsewhere; LRCMT.Lib needs TorchSharp 0.107.");

    /// <summary>Throws unless <see cref="Replace"/> can put a <paramref name="newType"/> where <paramref name="oldChild"/> is.</summary>
    public static void EnsureReplaceable(nn.Module parent, string childName, nn.Module oldChild, Type newType, string childPath)
        => _ = Plan(parent, childName, oldChild, newType, childPath).ThrowIfBlocked();

    /// <summary>Puts <paramref name="newChild"/> everywhere <paramref name="parent"/> holds <paramref name="oldChild"/>.</summary>
    /// <exception cref="AdapterException">A field of the parent cannot hold the new module, or the child cannot be found.</exception>
    public static void Replace(nn.Module parent, string childName, nn.Module oldChild, nn.Module newChild, string childPath)
    {
        foreach (var assign in Plan(parent, childName, oldChild, newChild.GetType(), childPath).ThrowIfBlocked().Slots)
            assign(newChild);
    }

    /// <summary>
    /// Every place <paramref name="parent"/> holds <paramref name="oldChild"/>: the slots that can take a
    /// <paramref name="newType"/>, the registered-children entry among them, and the first slot that cannot (if any).
    /// Changes nothing.
    /// </summary>
    public static ReplacementPlan Plan(nn.Module parent, string childName, nn.Module oldChild, Type newType, string childPath)
    {
        var slots = new List<Action<nn.Module>>();
        Action<nn.Module>? registration = null;
        AdapterException? blocker = null;
        string? blockedSlot = null;
        var registered = (OrderedDict<string, nn.Module>)RegisteredChildren.GetValue(parent)!;
        if (registered.TryGetValue(childName, out var current) && ReferenceEquals(current, oldChild))
        {
            registration = m => registered[childName] = m;
            slots.Add(registration);
        }

        foreach (var field in InstanceFields(parent.GetType()))
        {
            if (ReferenceEquals(field, RegisteredChildren)) continue;
            var value = field.GetValue(parent);
            if (ReferenceEquals(value, oldChild))
            {
                if (field.FieldType.IsAssignableFrom(newType)) slots.Add(m => field.SetValue(parent, m));
                else blocker ??= FieldTypeError(parent, field.Name, field.FieldType, newType, childPath, out blockedSlot);
            }
            else if (value is IList list && ElementTypeOf(list) is { } elementType && IndexOf(list, oldChild) is int index)
            {
                // Sequential and ModuleList keep their children in a private list as well.
                if (elementType.IsAssignableFrom(newType)) slots.Add(m => list[index] = m);
                else blocker ??= FieldTypeError(parent, field.Name, elementType, newType, childPath, out blockedSlot);
            }
        }

        if (IsModuleDict(parent, out var dictElementType))
        {
            if (dictElementType.IsAssignableFrom(newType))
            {
                var indexer = parent.GetType().GetProperty("Item", [typeof(string)])!;
                slots.Add(m => indexer.SetValue(parent, m, [childName]));
            }
            else blocker ??= FieldTypeError(parent, "ModuleDict", dictElementType, newType, childPath, out blockedSlot);
        }

        if (slots.Count == 0 && blocker is null)
            blocker = new AdapterException(childPath, $"cannot find where its parent ({parent.GetType().Name}) holds it, so it cannot be replaced.");
        return new ReplacementPlan(slots, registration, blocker, blockedSlot);
    }

    private static AdapterException FieldTypeError(nn.Module parent, string field, Type fieldType, Type newType, string childPath, out string? slot)
        => new(childPath,
            $"{slot = $"{parent.GetType().Name}.{field} is declared as {fieldType.Name}"}, which cannot hold a {newType.Name}. " +
            "Declare replaceable children as nn.Module<Tensor, Tensor> (or nn.IModule<Tensor, Tensor> for a native encoder), " +
            "not as the sealed Linear/TransformerEncoder type, so LoRA can be injected.");

    private static IEnumerable<FieldInfo> InstanceFields(Type? type)
    {
        for (; type is not null && type != typeof(object); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                yield return field;
    }

    private static Type? ElementTypeOf(IList list)
        => list.GetType().GetInterfaces()
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IList<>))
            ?.GetGenericArguments()[0] is { IsValueType: false } t ? t : null;

    private static int? IndexOf(IList list, object item)
    {
        for (int i = 0; i < list.Count; i++)
            if (ReferenceEquals(list[i], item)) return i;
        return null;
    }

    private static bool IsModuleDict(nn.Module parent, out Type elementType)
    {
        for (var type = parent.GetType(); type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(TorchSharp.Modules.ModuleDict<>))
            {
                elementType = type.GetGenericArguments()[0];
                return true;
            }
        }
        elementType = typeof(object);
        return false;
    }
}

/// <summary>Where a parent holds a child, as found by <see cref="ModuleReplacer.Plan"/>.</summary>
/// <param name="Slots">Assignments that put a new module into each slot that can hold it.</param>
/// <param name="Registration">The assignment of the registered-children entry, or null when the child is not registered there.</param>
/// <param name="Blocker">Why the child cannot be replaced everywhere (a slot of a type that cannot hold the new module), or null.</param>
/// <param name="BlockedSlot">The blocking slot in words, e.g. <c>Block.attn is declared as Linear</c>, or null.</param>
internal sealed record ReplacementPlan(IReadOnlyList<Action<nn.Module>> Slots, Action<nn.Module>? Registration, AdapterException? Blocker, string? BlockedSlot)
{
    public ReplacementPlan ThrowIfBlocked() => Blocker is null ? this : throw Blocker;
}
