using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// The wrapper <see cref="InjectionReport.AsTrainable{T, TResult}"/> returns: a module whose forward refreshes every
/// layer adapted in place and then invokes the adapted model's own <c>call</c> with the same arguments, so any adapted
/// model trains with an ordinary loop — also one whose root runs no hooks. The model is its registered child
/// <c>model</c>: <c>parameters()</c>, <c>train()</c>, <c>eval()</c> and <c>to()</c> reach it through the wrapper, its
/// state-dict keys carry the prefix <c>model.</c>, and disposing the wrapper disposes the model.
/// </summary>
internal static class RefreshingModules
{
    /// <summary>The type arguments (inputs, then result) of the first TorchSharp <c>IModule&lt;…&gt;</c> that <paramref name="type"/> implements, fewest inputs first.</summary>
    public static Type[]? SignatureOf(Type type)
        => type.GetInterfaces()
            .Where(i => i.IsGenericType && i.Assembly == typeof(nn.Module).Assembly && i.GetGenericTypeDefinition().DeclaringType == typeof(nn)
                        && i.Name.StartsWith("IModule`", StringComparison.Ordinal))
            .OrderBy(i => i.GetGenericArguments().Length).FirstOrDefault()?.GetGenericArguments();

    /// <summary><paramref name="model"/> as the interface the wrapper calls, or a typed error naming the signatures it has.</summary>
    public static TInterface Require<TInterface>(nn.Module model) where TInterface : class
        => model as TInterface ?? throw new AdapterException(null,
            $"the adapted model is a {model.GetType().Name}, which does not implement {Describe(typeof(TInterface))}; " +
            (SignatureOf(model.GetType()) is { } signature
                ? $"ask for AsTrainable<{string.Join(", ", signature.Select(t => t.Name))}>() instead."
                : "it implements no TorchSharp IModule<…> signature, so call LowRankInjector.RefreshAdapters(model) before each forward instead."));

    private static string Describe(Type type) => $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(t => t.Name))}>";

    /// <summary>Refreshes everything, then keeps the root's own hook from doing it again during the call that follows.</summary>
    public static IDisposable Prepare(nn.Module model)
    {
        AdapterRefresh.RefreshAll(model);
        return AdapterRefresh.SuspendRootHook(model);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 1 argument.</summary>
internal sealed class RefreshingModule<T, TResult> : nn.Module<T, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T input)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T, TResult>)model).call(input);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 2 arguments.</summary>
internal sealed class RefreshingModule<T1, T2, TResult> : nn.Module<T1, T2, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T1, T2, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T1, T2, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T1 input1, T2 input2)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T1, T2, TResult>)model).call(input1, input2);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 3 arguments.</summary>
internal sealed class RefreshingModule<T1, T2, T3, TResult> : nn.Module<T1, T2, T3, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T1, T2, T3, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T1, T2, T3, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T1 input1, T2 input2, T3 input3)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T1, T2, T3, TResult>)model).call(input1, input2, input3);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 4 arguments.</summary>
internal sealed class RefreshingModule<T1, T2, T3, T4, TResult> : nn.Module<T1, T2, T3, T4, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T1, T2, T3, T4, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T1, T2, T3, T4, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T1 input1, T2 input2, T3 input3, T4 input4)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T1, T2, T3, T4, TResult>)model).call(input1, input2, input3, input4);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 5 arguments.</summary>
internal sealed class RefreshingModule<T1, T2, T3, T4, T5, TResult> : nn.Module<T1, T2, T3, T4, T5, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T1, T2, T3, T4, T5, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T1, T2, T3, T4, T5, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T1 input1, T2 input2, T3 input3, T4 input4, T5 input5)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T1, T2, T3, T4, T5, TResult>)model).call(input1, input2, input3, input4, input5);
    }
}

/// <summary><see cref="RefreshingModules"/> for a model invoked with 6 arguments.</summary>
internal sealed class RefreshingModule<T1, T2, T3, T4, T5, T6, TResult> : nn.Module<T1, T2, T3, T4, T5, T6, TResult>
{
    // The only field: TorchSharp registers fields by the object they hold, so a second reference would register the model twice.
    private readonly nn.Module model;

    public RefreshingModule(nn.Module adapted) : base(nameof(RefreshingModule<T1, T2, T3, T4, T5, T6, TResult>))
    {
        RefreshingModules.Require<nn.IModule<T1, T2, T3, T4, T5, T6, TResult>>(adapted);
        model = adapted;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TResult forward(T1 input1, T2 input2, T3 input3, T4 input4, T5 input5, T6 input6)
    {
        using (RefreshingModules.Prepare(model)) return ((nn.IModule<T1, T2, T3, T4, T5, T6, TResult>)model).call(input1, input2, input3, input4, input5, input6);
    }
}
