namespace LRCMT.Errors;

/// <summary>
/// Adapter weights (A, B or a DoRA magnitude) hold NaN or infinity: training diverged. This is not a stale-weight
/// problem — refreshing does not help; lower the learning rate, clip gradients, or go back to the last good checkpoint.
/// </summary>
public sealed class NonFiniteAdapterWeightsException : AdapterException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="layerPaths">Dotted paths of the layers whose adapter weights are not finite.</param>
    public NonFiniteAdapterWeightsException(IReadOnlyList<string> layerPaths)
        : base(layerPaths is { Count: 1 } ? layerPaths[0] : null,
            (layerPaths is { Count: > 1 } ? $"Modules {string.Join(", ", layerPaths.Select(p => $"'{p}'"))}: " : "") +
            "the adapter weights are not finite (NaN or infinity), so training has diverged. Lower the learning rate, " +
            "enable gradient clipping, or check the inputs for NaN/Inf, and restart from the last good checkpoint.")
    {
        LayerPaths = layerPaths ?? [];
    }

    /// <summary>Dotted paths of the layers whose adapter weights are not finite.</summary>
    public IReadOnlyList<string> LayerPaths { get; }
}
