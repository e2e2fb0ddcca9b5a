using TorchSharp;
using static TorchSharp.torch;
using System.Globalization;
using System.Text;

namespace LRCMT.LowRank;

/// <summary>What <see cref="LowRankInjector.Inject"/> did.</summary>
/// <param name="AdapterName">The adapter that was added.</param>
/// <param name="Adapted">One entry per adapted projection, in module order.</param>
/// <param name="ConvertedModules">Paths of built-in TorchSharp transformer modules replaced by managed equivalents.</param>
/// <param name="ModulesToSave">Paths of modules kept fully trainable.</param>
/// <param name="Parameters">Trainable and total parameter counts after freezing.</param>
public sealed record InjectionReport(
    string AdapterName,
    IReadOnlyList<AdaptedModule> Adapted,
    IReadOnlyList<string> ConvertedModules,
    IReadOnlyList<string> ModulesToSave,
    ParameterReport Parameters)
{
    /// <summary>
    /// The adapted model: the model passed to <see cref="LowRankInjector.Inject"/>, or — when that was itself a native
    /// TorchSharp transformer module — its managed twin, which must be used in its place (the native module is left
    /// untouched; dispose it when you no longer need it).
    /// </summary>
    public nn.Module Model { get; init; } = null!;

    /// <summary>
    /// Whether every layer of the model adapted in place (<see cref="AdaptationMechanism.Substitution"/>) is rebuilt
    /// automatically before it is used: some module on its path — the module itself, an ancestor, or the model when
    /// invoked with <c>.call(...)</c> — runs TorchSharp's hooks the way the model's code invokes it (see
    /// <see cref="AdaptedModule.RefreshedBy"/>). When false, <see cref="ToString"/> names the layers, the reason and
    /// the fix: <see cref="LowRankInjector.RefreshAdapters"/> before each forward, or train
    /// <see cref="AsTrainable{T, TResult}"/> in the model's place.
    /// </summary>
    public bool RefreshesOnCall { get; init; } = true;

    /// <summary>The block (what, why, fix) <see cref="ToString"/> prints when <see cref="RefreshesOnCall"/> is false.</summary>
    internal IReadOnlyList<string>? RefreshGapText { get; init; }

    /// <summary>
    /// A module to train in the model's place when it has layers adapted in place: its forward rebuilds their weights
    /// (<see cref="LowRankInjector.RefreshAdapters"/>) and then invokes the model's own <c>call</c> with the same
    /// arguments, so an ordinary loop trains any adapted model — also one whose root runs no hooks, or that is invoked
    /// with <c>.forward()</c>. The model is its registered child <c>model</c>: <c>parameters()</c>, <c>train()</c>,
    /// <c>eval()</c> and <c>to()</c> reach it, its state-dict keys gain the prefix <c>model.</c> (save adapters from
    /// <see cref="Model"/>), and disposing the wrapper disposes the model. One overload per TorchSharp signature,
    /// <c>IModule&lt;T, TResult&gt;</c> to <c>IModule&lt;T1, …, T6, TResult&gt;</c>.
    /// </summary>
    /// <exception cref="Errors.AdapterException">The model does not implement <c>nn.IModule&lt;T, TResult&gt;</c> (the message names the signature it has).</exception>
    public nn.Module<T, TResult> AsTrainable<T, TResult>() => new Substitution.RefreshingModule<T, TResult>(Model);

    /// <inheritdoc cref="AsTrainable{T, TResult}"/>
    public nn.Module<T1, T2, TResult> AsTrainable<T1, T2, TResult>() => new Substitution.RefreshingModule<T1, T2, TResult>(Model);

    /// <inheritdoc cref="AsTrainable{T, TResult}"/>
    public nn.Module<T1, T2, T3, TResult> AsTrainable<T1, T2, T3, TResult>() => new Substitution.RefreshingModule<T1, T2, T3, TResult>(Model);

    /// <inheritdoc cref="AsTrainable{T, TResult}"/>
    public nn.Module<T1, T2, T3, T4, TResult> AsTrainable<T1, T2, T3, T4, TResult>() => new Substitution.RefreshingModule<T1, T2, T3, T4, TResult>(Model);

    /// <inheritdoc cref="AsTrainable{T, TResult}"/>
    public nn.Module<T1, T2, T3, T4, T5, TResult> AsTrainable<T1, T2, T3, T4, T5, TResult>() => new Substitution.RefreshingModule<T1, T2, T3, T4, T5, TResult>(Model);

    /// <inheritdoc cref="AsTrainable{T, TResult}"/>
    public nn.Module<T1, T2, T3, T4, T5, T6, TResult> AsTrainable<T1, T2, T3, T4, T5, T6, TResult>() => new Substitution.RefreshingModule<T1, T2, T3, T4, T5, T6, TResult>(Model);

    /// <summary>The adapted module paths.</summary>
    public IEnumerable<string> MatchedModules => Adapted.Select(a => a.Path);

    /// <summary>
    /// A readable multi-line summary ending with PEFT's parameter line. When layers adapted in place are not refreshed
    /// automatically, a block says which, why, and how to fix it.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"LoRA adapter '{AdapterName}' on {Adapted.Count} module(s):");
        foreach (var a in Adapted)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {a.Path}  [{a.OutFeatures}x{a.InFeatures}]  r={a.Rank} alpha={a.Alpha} scaling={a.Scaling:G4}{(a.UseDora ? " DoRA" : "")}  ({Mechanism(a)})");
        foreach (var c in ConvertedModules) text.AppendLine(CultureInfo.InvariantCulture, $"  converted to managed modules: {c}");
        foreach (var m in ModulesToSave) text.AppendLine(CultureInfo.InvariantCulture, $"  fully trainable: {m}");
        if (RefreshGapText is { } gaps)
            for (int i = 0; i < gaps.Count; i++) text.AppendLine(CultureInfo.InvariantCulture, $"  {(i == 0 ? "!" : " ")} {gaps[i]}");
        text.Append(Parameters);
        return text.ToString();
    }

    private static string Mechanism(AdaptedModule a)
    {
        var how = a.Mechanism.ToString();
        if (a.Mechanism == AdaptationMechanism.Substitution)
            how += a.RefreshedBy switch
            {
                null => ", NOT refreshed automatically",
                "" => ", rebuilt on the model's .call()",
                var path => $", rebuilt on {path}.call()",
            };
        return a.InConvertedModule ? how + ", in a converted module" : how;
    }
}

/// <summary>One projection that received an adapter.</summary>
/// <param name="Path">Dotted module path, e.g. <c>encoder.layer.0.attention.self.query</c>.</param>
/// <param name="InFeatures">Input width.</param>
/// <param name="OutFeatures">Output width.</param>
/// <param name="Rank">Rank after <see cref="LoRAConfig.RankPattern"/>.</param>
/// <param name="Alpha">Alpha after <see cref="LoRAConfig.AlphaPattern"/>.</param>
/// <param name="Scaling">The factor applied to B·A.</param>
/// <param name="UseDora">Whether the adapter is DoRA.</param>
public sealed record AdaptedModule(string Path, long InFeatures, long OutFeatures, int Rank, double Alpha, double Scaling, bool UseDora)
{
    /// <summary>How the adapter was attached: replacement, substitution (in place) or a packed-projection slice.</summary>
    public AdaptationMechanism Mechanism { get; init; }

    /// <summary>Whether the module lies inside a native transformer module that was converted to its managed twin.</summary>
    public bool InConvertedModule { get; init; }

    /// <summary>
    /// For a layer adapted in place: the path of the nearest module whose <c>.call(...)</c> rebuilds its weight before
    /// use — the module itself, an ancestor, or <c>""</c> for the model (invoked with <c>.call</c>) — as found from how
    /// the model's code invokes each module on the path; null when none does (then call
    /// <see cref="LowRankInjector.RefreshAdapters"/> before each forward, or train
    /// <see cref="InjectionReport.AsTrainable{T, TResult}"/>), and for layers not adapted in place.
    /// </summary>
    public string? RefreshedBy { get; init; }
}
