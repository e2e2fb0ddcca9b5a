namespace LRCMT.Errors;

/// <summary>
/// An adapter file's <c>adapter_config.json</c> disagrees with the adapter the model already carries (its record of
/// how the adapter was created), so loading the file's weights would give a different model than the file describes.
/// Nothing was loaded.
/// </summary>
public sealed class AdapterConfigMismatchException : AdapterException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="configPath">The <c>adapter_config.json</c> that was read.</param>
    /// <param name="adapterName">The model's adapter it was compared with.</param>
    /// <param name="disagreements">Each disagreeing field (as named in <c>adapter_config.json</c>) with the model's and the file's value.</param>
    public AdapterConfigMismatchException(string configPath, string adapterName,
        IReadOnlyList<(string Field, string ModelValue, string FileValue)> disagreements)
        : base(null, string.Join("; ", (disagreements ?? []).Select(d =>
                   $"adapter_config.json field '{d.Field}': the model's adapter '{adapterName}' has {d.ModelValue}, the file has {d.FileValue}")) +
               $" (file '{configPath}'). Nothing was loaded.")
    {
        ConfigPath = configPath;
        AdapterName = adapterName;
        Disagreements = disagreements ?? [];
    }

    /// <summary>The <c>adapter_config.json</c> that was read.</summary>
    public string ConfigPath { get; }

    /// <summary>The model's adapter the file was compared with.</summary>
    public string AdapterName { get; }

    /// <summary>Each disagreeing field with the model's and the file's value (as JSON text).</summary>
    public IReadOnlyList<(string Field, string ModelValue, string FileValue)> Disagreements { get; }
}
