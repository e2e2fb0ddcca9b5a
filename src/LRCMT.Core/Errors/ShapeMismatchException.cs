namespace LRCMT.Errors;

/// <summary>A tensor (input, parameter or checkpoint entry) does not have the shape the operation needs.</summary>
public sealed class ShapeMismatchException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="what">What has the wrong shape, e.g. "acoustic input" or "encoder.layer.0.attention.self.query.weight".</param>
    /// <param name="expected">The expected shape, in words where a dimension is free, e.g. "[batch, seq, 5]".</param>
    /// <param name="actual">The actual shape.</param>
    public ShapeMismatchException(string what, string expected, long[] actual)
        : base($"{what}: expected shape {expected} but got {Format(actual)}.")
    {
        What = what;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>What has the wrong shape.</summary>
    public string What { get; }

    /// <summary>The expected shape, as text.</summary>
    public string Expected { get; }

    /// <summary>The actual shape.</summary>
    public long[] Actual { get; }

    /// <summary>Formats a shape as <c>[2, 3, 4]</c>.</summary>
    internal static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
