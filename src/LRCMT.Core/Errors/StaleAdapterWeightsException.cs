namespace LRCMT.Errors;

/// <summary>
/// A forward pass used an adapted weight built before the adapters last changed (typically: the model's root was
/// invoked with <c>.forward()</c>, which runs no hooks, after an optimiser step and without
/// <c>LowRankInjector.RefreshAdapters(model)</c>). Its gradient was refused, so no optimiser step used it.
/// </summary>
public sealed class StaleAdapterWeightsException : AdapterException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="layerPaths">Dotted paths of the layers whose forward used stale weights.</param>
    /// <param name="problem">What happened and how to fix it.</param>
    public StaleAdapterWeightsException(IReadOnlyList<string> layerPaths, string problem)
        : base(layerPaths is { Count: 1 } ? layerPaths[0] : null,
            layerPaths is { Count: > 1 } ? $"Modules {string.Join(", ", layerPaths.Select(p => $"'{p}'"))}: {problem}" : problem)
    {
        LayerPaths = layerPaths ?? [];
    }

    /// <summary>Dotted paths of the layers whose forward used stale weights.</summary>
    public IReadOnlyList<string> LayerPaths { get; }
}
