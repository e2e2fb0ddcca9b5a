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
    /// False when some layers are adapted in place but the root's type offers no forward pre-hook, so
    /// <see cref="LowRankInjector.RefreshAdapters"/> must be called before every forward.
    /// </summary>
    public bool RefreshesOnCall { get; init; } = true;

    /// <summary>The adapted module paths.</summary>
    public IEnumerable<string> MatchedModules => Adapted.Select(a => a.Path);

    /// <summary>A readable multi-line summary ending with PEFT's parameter line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"LoRA adapter '{AdapterName}' on {Adapted.Count} module(s):");
        foreach (var a in Adapted)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {a.Path}  [{a.OutFeatures}x{a.InFeatures}]  r={a.Rank} alpha={a.Alpha} scaling={a.Scaling:G4}{(a.UseDora ? " DoRA" : "")}  ({a.Mechanism}{(a.InConvertedModule ? ", in a converted module" : "")})");
        foreach (var c in ConvertedModules) text.AppendLine(CultureInfo.InvariantCulture, $"  converted to managed modules: {c}");
        foreach (var m in ModulesToSave) text.AppendLine(CultureInfo.InvariantCulture, $"  fully trainable: {m}");
        text.Append(Parameters);
        return text.ToString();
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
}
