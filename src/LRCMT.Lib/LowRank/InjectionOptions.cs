using LRCMT.LowRank.Transformers;

namespace LRCMT.LowRank;

/// <summary>
/// How <see cref="LowRankInjector.Inject"/> (and <see cref="PeftAdapterFile.Load"/> when it injects) treats the model,
/// beside the adapter's own settings in <see cref="LoRAConfig"/>.
/// </summary>
public sealed record InjectionOptions
{
    /// <summary>Hyper-parameters of built-in TorchSharp transformer modules to convert; inferred when null.</summary>
    public NativeTransformerOptions? Native { get; init; }

    /// <summary>
    /// Refuse (with an <see cref="Errors.AdapterException"/> naming the layers, the reason and the fix, before anything
    /// changes) when a layer adapted in place would not be refreshed automatically because no module on its path runs
    /// TorchSharp's hooks as the model invokes it (see <see cref="InjectionReport.RefreshesOnCall"/>). Default false:
    /// such layers are listed in <see cref="InjectionReport"/>'s text instead.
    /// </summary>
    public bool RequireAutomaticRefresh { get; init; }
}
