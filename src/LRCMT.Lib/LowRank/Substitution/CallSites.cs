using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// Reads a module type's compiled code (IL) for the places where it invokes <c>call</c> or <c>forward</c> on some
/// object, and where that object came from: one of the type's fields, or an element of a collection held in one
/// (<c>foreach</c>, an indexer). That is what tells whether a parent invokes a child through TorchSharp's
/// <c>Module.call</c> (which runs hooks) or through <c>forward</c> (which does not). The reading is a simple
/// simulation of the evaluation stack, straight through each method; anything it cannot follow is "unknown".
/// The injector uses it only to say where automatic refresh works; the refresh hooks themselves do not depend on it.
/// </summary>
internal static class CallSites
{
    /// <summary>Where a value on the evaluation stack came from.</summary>
    internal abstract record Source
    {
        public static readonly Source Unknown = new UnknownSource();
        public static readonly Source This = new ThisSource();
    }

    private sealed record UnknownSource : Source;

    private sealed record ThisSource : Source;

    /// <summary>The value of a field of the module itself.</summary>
    internal sealed record FieldSource(FieldInfo Field) : Source;

    /// <summary>An element of the collection held in a field of the module itself.</summary>
    internal sealed record ElementSource(FieldInfo Field) : Source;

    private sealed record EnumeratorSource(FieldInfo Field) : Source;

    private sealed record LocalSource(int Index) : Source;

    /// <summary>One invocation of <paramref name="Target"/> (named call or forward) on an object from <paramref name="Receiver"/>.</summary>
    internal sealed record Site(MethodInfo Target, Source Receiver);

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    private static readonly ConcurrentDictionary<Type, IReadOnlyList<Site>> Cache = new();

    private static readonly Assembly TorchSharpAssembly = typeof(TorchSharp.torch.nn.Module).Assembly;

    /// <summary>Every call/forward invocation in the code of <paramref name="type"/>, its base types outside TorchSharp's base classes, and its nested (compiler-generated) types.</summary>
    public static IReadOnlyList<Site> Of(Type type) => Cache.GetOrAdd(type, t =>
    {
        var sites = new List<Site>();
        for (var current = t; current is not null && current != typeof(object) && !IsTorchSharpBase(current); current = current.BaseType)
            foreach (var method in MethodsOf(current)) sites.AddRange(Read(method));
        return sites;
    });

    /// <summary>TorchSharp's own module base classes, whose code is the hook machinery, not a model's.</summary>
    internal static bool IsTorchSharpBase(Type type)
    {
        if (type.Assembly != TorchSharpAssembly) return false;
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        return definition == typeof(TorchSharp.torch.nn.Module) || definition.DeclaringType == typeof(TorchSharp.torch.nn);
    }

    /// <summary>The fields a module type declares (its base types outside TorchSharp's base classes included).</summary>
    public static IEnumerable<FieldInfo> FieldsOf(Type type)
    {
        for (var current = type; current is not null && current != typeof(object) && !IsTorchSharpBase(current); current = current.BaseType)
            foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                yield return field;
    }

    /// <summary>Whether two field handles name the same field (reflection may hand out different objects for it).</summary>
    public static bool SameField(FieldInfo a, FieldInfo b) => a.MetadataToken == b.MetadataToken && a.Module == b.Module;

    private static IEnumerable<MethodBase> MethodsOf(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var method in type.GetMethods(all)) yield return method;
        foreach (var nested in type.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public))
        {
            foreach (var method in nested.GetMethods(all)) yield return method;
            foreach (var constructor in nested.GetConstructors(all)) yield return constructor;
            foreach (var deeper in nested.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public))
                foreach (var method in deeper.GetMethods(all)) yield return method;
        }
    }

    /// <summary>Simulates <paramref name="method"/>'s evaluation stack twice (the first pass learns what its locals hold) and returns its call/forward invocations.</summary>
    public static List<Site> Read(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or BadImageFormatException)
        {
            il = null;
        }
        if (il is null) return [];
        var locals = new Dictionary<int, Source>();
        var sites = new List<Site>();
        for (int pass = 0; pass < 2; pass++)
        {
            sites.Clear();
            try
            {
                Simulate(method, il, locals, sites);
            }
            catch (Exception e) when (e is ArgumentException or BadImageFormatException or IndexOutOfRangeException or TypeLoadException
                                          or MissingMemberException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
            {
                // Code this simple reader cannot follow: keep what was found before it.
            }
        }
        return sites;
    }

    private static void Simulate(MethodBase method, byte[] il, Dictionary<int, Source> locals, List<Site> sites)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var targets = BranchTargets(il);
        var pending = new Dictionary<int, List<Source>>(); // stacks carried by forward branches
        var stack = new List<Source>();
        bool reachable = true;
        int offset = 0;
        while (offset < il.Length)
        {
            if (targets.Contains(offset))
            {
                if (pending.TryGetValue(offset, out var carried) && (!reachable || stack.Count == 0)) stack = [.. carried];
                else if (!reachable) stack = [];
            }
            reachable = true;
            var opcode = ReadOpCode(il, ref offset);
            int operandStart = offset;
            offset += OperandSize(opcode, il, operandStart);
            int token = opcode.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok or OperandType.InlineType
                ? BitConverter.ToInt32(il, operandStart) : 0;

            switch (opcode.Value)
            {
                case var v when v == OpCodes.Ldarg_0.Value:
                    stack.Add(method.IsStatic ? Source.Unknown : Source.This);
                    continue;
                case var v when v == OpCodes.Ldfld.Value || v == OpCodes.Ldflda.Value:
                {
                    var owner = Pop(stack);
                    var field = method.Module.ResolveField(token, typeArguments, methodArguments)!;
                    stack.Add(owner is ThisSource
                        ? field.Name.EndsWith("__this", StringComparison.Ordinal) ? Source.This : new FieldSource(field)
                        : Source.Unknown);
                    continue;
                }
                case var v when v == OpCodes.Dup.Value:
                    stack.Add(stack.Count > 0 ? stack[^1] : Source.Unknown);
                    continue;
                case var v when v == OpCodes.Castclass.Value || v == OpCodes.Isinst.Value || v == OpCodes.Unbox_Any.Value || v == OpCodes.Box.Value:
                    continue; // the same object, seen as another type
                case var v when v == OpCodes.Call.Value || v == OpCodes.Callvirt.Value || v == OpCodes.Newobj.Value:
                    Invoke(method.Module.ResolveMethod(token, typeArguments, methodArguments)!, opcode, stack, locals, sites);
                    continue;
            }
            if (LocalIndex(opcode, il, operandStart) is { } local)
            {
                if (opcode.StackBehaviourPop == StackBehaviour.Pop1)
                {
                    var value = Resolve(Pop(stack), locals);
                    locals[local] = locals.TryGetValue(local, out var known) && known != value ? Source.Unknown : value;
                }
                else stack.Add(new LocalSource(local));
                continue;
            }
            if (opcode.OperandType == OperandType.InlineSig) throw new NotSupportedException("calli");

            for (int i = Pops(opcode); i > 0; i--) Pop(stack);
            if (opcode == OpCodes.Ret || opcode == OpCodes.Leave || opcode == OpCodes.Leave_S || opcode == OpCodes.Endfinally) stack.Clear();
            for (int i = Pushes(opcode); i > 0; i--) stack.Add(Source.Unknown);

            if (opcode.FlowControl is FlowControl.Branch or FlowControl.Cond_Branch)
                foreach (var target in BranchDestinations(opcode, il, operandStart, offset))
                    pending.TryAdd(target, [.. stack]);
            if (opcode.FlowControl is FlowControl.Branch or FlowControl.Return or FlowControl.Throw) reachable = false;
        }
    }

    private static void Invoke(MethodBase target, OpCode opcode, List<Source> stack, Dictionary<int, Source> locals, List<Site> sites)
    {
        var parameters = target.GetParameters();
        var arguments = new Source[parameters.Length];
        for (int i = parameters.Length - 1; i >= 0; i--) arguments[i] = Resolve(Pop(stack), locals);
        bool hasReceiver = !target.IsStatic && opcode != OpCodes.Newobj;
        var receiver = hasReceiver ? Resolve(Pop(stack), locals) : Source.Unknown;
        if (target is not MethodInfo method)
        {
            if (opcode == OpCodes.Newobj) stack.Add(Source.Unknown);
            return; // a base constructor call
        }
        if (method.Name is "call" or "forward") sites.Add(new Site(method, receiver));
        if (method.ReturnType == typeof(void)) return;

        // Extension methods such as Enumerable.ElementAt take the collection as their first argument.
        var collection = hasReceiver ? receiver : arguments.Length > 0 ? arguments[0] : Source.Unknown;
        stack.Add((method.Name, collection) switch
        {
            ("GetEnumerator", FieldSource f) => new EnumeratorSource(f.Field),
            ("get_Current", EnumeratorSource e) => new ElementSource(e.Field),
            ("get_Item" or "ElementAt" or "First" or "Last" or "Single", FieldSource f) => new ElementSource(f.Field),
            (_, ThisSource) when hasReceiver && TrivialGetterField(method) is { } field => new FieldSource(field),
            _ => Source.Unknown,
        });
    }

    /// <summary>The field a property getter returns when its whole body is <c>return this.field;</c>, else null.</summary>
    private static FieldInfo? TrivialGetterField(MethodInfo getter)
    {
        if (!getter.Name.StartsWith("get_", StringComparison.Ordinal) || getter.GetParameters().Length > 0) return null;
        var il = getter.GetMethodBody()?.GetILAsByteArray();
        // ldarg.0; ldfld <token>; ret
        if (il is not { Length: 7 } || il[0] != (byte)OpCodes.Ldarg_0.Value || il[1] != (byte)OpCodes.Ldfld.Value || il[6] != (byte)OpCodes.Ret.Value) return null;
        var declaring = getter.DeclaringType;
        return getter.Module.ResolveField(BitConverter.ToInt32(il, 2), declaring is { IsGenericType: true } ? declaring.GetGenericArguments() : null, null);
    }

    private static Source Resolve(Source source, Dictionary<int, Source> locals)
        => source is LocalSource local ? locals.GetValueOrDefault(local.Index, Source.Unknown) : source;

    private static Source Pop(List<Source> stack)
    {
        if (stack.Count == 0) return Source.Unknown;
        var top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    private static OpCode ReadOpCode(byte[] il, ref int offset)
    {
        short value = il[offset++];
        if (value == 0xFE) value = unchecked((short)(0xFE00 | il[offset++]));
        return OpCodesByValue[value];
    }

    private static int OperandSize(OpCode opcode, byte[] il, int at) => opcode.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    private static HashSet<int> BranchTargets(byte[] il)
    {
        var targets = new HashSet<int>();
        for (int offset = 0; offset < il.Length;)
        {
            var opcode = ReadOpCode(il, ref offset);
            int operandStart = offset;
            offset += OperandSize(opcode, il, operandStart);
            foreach (var target in BranchDestinations(opcode, il, operandStart, offset)) targets.Add(target);
        }
        return targets;
    }

    private static IEnumerable<int> BranchDestinations(OpCode opcode, byte[] il, int operandStart, int next) => opcode.OperandType switch
    {
        OperandType.ShortInlineBrTarget => [next + (sbyte)il[operandStart]],
        OperandType.InlineBrTarget => [next + BitConverter.ToInt32(il, operandStart)],
        OperandType.InlineSwitch => Enumerable.Range(0, BitConverter.ToInt32(il, operandStart))
            .Select(i => next + BitConverter.ToInt32(il, operandStart + 4 + 4 * i)).ToList(),
        _ => [],
    };

    /// <summary>The local variable a ldloc/ldloca/stloc reads or writes, or null for other instructions.</summary>
    private static int? LocalIndex(OpCode opcode, byte[] il, int operandStart)
    {
        if (opcode == OpCodes.Ldloc_0 || opcode == OpCodes.Stloc_0) return 0;
        if (opcode == OpCodes.Ldloc_1 || opcode == OpCodes.Stloc_1) return 1;
        if (opcode == OpCodes.Ldloc_2 || opcode == OpCodes.Stloc_2) return 2;
        if (opcode == OpCodes.Ldloc_3 || opcode == OpCodes.Stloc_3) return 3;
        if (opcode == OpCodes.Ldloc_S || opcode == OpCodes.Ldloca_S || opcode == OpCodes.Stloc_S) return il[operandStart];
        if (opcode == OpCodes.Ldloc || opcode == OpCodes.Ldloca || opcode == OpCodes.Stloc) return BitConverter.ToUInt16(il, operandStart);
        return null;
    }

    private static int Pops(OpCode opcode) => opcode.StackBehaviourPop switch
    {
        StackBehaviour.Pop0 => 0,
        StackBehaviour.Pop1 or StackBehaviour.Popi or StackBehaviour.Popref => 1,
        StackBehaviour.Pop1_pop1 or StackBehaviour.Popi_pop1 or StackBehaviour.Popi_popi or StackBehaviour.Popi_popi8
            or StackBehaviour.Popi_popr4 or StackBehaviour.Popi_popr8 or StackBehaviour.Popref_pop1 or StackBehaviour.Popref_popi => 2,
        StackBehaviour.Varpop => opcode == OpCodes.Ret ? 1 : throw new NotSupportedException(opcode.Name),
        _ => 3,
    };

    private static int Pushes(OpCode opcode) => opcode.StackBehaviourPush switch
    {
        StackBehaviour.Push0 => 0,
        StackBehaviour.Push1_push1 => 2,
        StackBehaviour.Varpush => throw new NotSupportedException(opcode.Name),
        _ => 1,
    };
}
