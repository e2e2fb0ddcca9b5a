namespace LRCMT.Errors;

/// <summary>
/// A LoRA adapter cannot be added, replaced or used as asked: the module already carries that adapter, the target is
/// not a linear projection, the parent's field cannot hold the adapted layer, or an adapter name is unknown.
/// </summary>
public class AdapterException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="modulePath">Dotted path of the module concerned, or null when the problem is not about one module.</param>
    /// <param name="problem">What is wrong and, where possible, how to fix it.</param>
    public AdapterException(string? modulePath, string problem)
        : base(modulePath is null ? problem : $"Module '{modulePath}': {problem}")
    {
        ModulePath = modulePath;
    }

    /// <summary>Dotted path of the module concerned, when there is one.</summary>
    public string? ModulePath { get; }
}
