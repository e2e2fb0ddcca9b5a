namespace LRCMT.Errors;

/// <summary>A file (safetensors, ONNX, pickle, JSON) is truncated, corrupt or not of the expected format.</summary>
public sealed class CorruptFileException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="offset">Byte offset where the problem was found, or null when not meaningful.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The lower-level cause, if any.</param>
    public CorruptFileException(string path, long? offset, string problem, Exception? inner = null)
        : base($"{path}{(offset is { } o ? $" (at byte {o})" : "")}: {problem}", inner)
    {
        Path = path;
        Offset = offset;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Byte offset of the problem, where known.</summary>
    public long? Offset { get; }
}
