namespace LRCMT.Errors;

/// <summary>
/// An input file cannot be read as one: it is not a regular file (a FIFO, a device, a socket, a directory), a loop of
/// symbolic links, unreadable, or larger than the limit for its kind (docs/reliability.md lists the limits and how to
/// raise them).
/// </summary>
public sealed class InputFileException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="problem">Why it is refused.</param>
    /// <param name="inner">The lower-level cause, if any.</param>
    public InputFileException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
}
