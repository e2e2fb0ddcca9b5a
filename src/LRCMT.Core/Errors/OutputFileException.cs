namespace LRCMT.Errors;

/// <summary>
/// A file or folder cannot be written: the disk or quota is full, the file is larger than the file system or the
/// process's file-size limit (<c>ulimit -f</c>) allows, the location is read-only or not permitted, or it is taken by
/// something that must not be replaced (a file where a folder goes, a folder holding files the library did not write).
/// What was there before is left as it was.
/// </summary>
public sealed class OutputFileException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file or folder that could not be written.</param>
    /// <param name="problem">Why.</param>
    /// <param name="inner">The lower-level cause, if any.</param>
    public OutputFileException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file or folder that could not be written.</summary>
    public string Path { get; }
}
