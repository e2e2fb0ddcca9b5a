namespace LRCMT.Errors;

/// <summary>
/// A model cannot be exported because one of its modules is of a type the exporter does not know, or is set up in a way
/// it cannot write faithfully (the exporter refuses rather than write a graph that computes something else).
/// </summary>
public sealed class UnsupportedModuleException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="modulePath">Dotted path of the module in the model (empty for the model itself).</param>
    /// <param name="moduleType">The module's type name.</param>
    /// <param name="problem">What the exporter expected there, or what it cannot write.</param>
    public UnsupportedModuleException(string modulePath, string moduleType, string problem)
        : base($"Module '{(modulePath.Length == 0 ? "(model)" : modulePath)}' of type {moduleType} cannot be exported: {problem}")
    {
        ModulePath = modulePath;
        ModuleType = moduleType;
    }

    /// <summary>Dotted path of the module in the model.</summary>
    public string ModulePath { get; }

    /// <summary>The module's type name.</summary>
    public string ModuleType { get; }
}
