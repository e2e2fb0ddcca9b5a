namespace LRCMT.Errors;

/// <summary>
/// A pickle asks to import something that is not on the data-only allow-list (numpy arrays, dtypes and scalars),
/// or uses an opcode that could reach arbitrary objects. A pickle is a program; a data file must not run one, so
/// the file is refused before anything in it is built.
/// </summary>
public sealed class UnsafePickleException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The pickle file (or a description of the in-memory source).</param>
    /// <param name="offset">Byte offset of the offending opcode.</param>
    /// <param name="global">The refused <c>module.name</c>, or the opcode's description when no name applies.</param>
    /// <param name="reason">Why it is refused.</param>
    public UnsafePickleException(string path, long offset, string global, string reason)
        : base($"{path} (at byte {offset}): refused '{global}': {reason}. Only numpy arrays, dtypes and scalars may be loaded from a data pickle.")
    {
        Path = path;
        Offset = offset;
        Global = global;
    }

    /// <summary>The pickle file.</summary>
    public string Path { get; }

    /// <summary>Byte offset of the refused opcode.</summary>
    public long Offset { get; }

    /// <summary>The refused global as <c>module.name</c> (or the opcode's description).</summary>
    public string Global { get; }
}
