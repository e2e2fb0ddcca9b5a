namespace LRCMT.Errors;

/// <summary>A checkpoint's keys do not line up with the module: some are missing, unexpected, or of the wrong shape or dtype.</summary>
public sealed class CheckpointMismatchException : LrcmtException
{
    /// <summary>Creates the exception; the message lists every problem.</summary>
    public CheckpointMismatchException(
        string source,
        IReadOnlyList<string> missingKeys,
        IReadOnlyList<string> unexpectedKeys,
        IReadOnlyList<string> shapeMismatches)
        : base(Describe(source, missingKeys, unexpectedKeys, shapeMismatches))
    {
        CheckpointSource = source;
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>The file or folder the checkpoint came from.</summary>
    public string CheckpointSource { get; }

    /// <summary>Keys the module has but the checkpoint lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Keys the checkpoint has but the module lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>One line per key whose shape or dtype differs: "key: expected [..] but got [..]" or "key: expected dtype .. but got ..".</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    private static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapes)
    {
        var parts = new List<string> { $"Checkpoint '{source}' does not match the module." };
        if (missing.Count > 0) parts.Add($"Missing keys ({missing.Count}): {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", ..." : "")}");
        if (unexpected.Count > 0) parts.Add($"Unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected.Take(20))}{(unexpected.Count > 20 ? ", ..." : "")}");
        if (shapes.Count > 0) parts.Add($"Shape or dtype mismatches ({shapes.Count}): {string.Join("; ", shapes.Take(20))}");
        return string.Join(" ", parts);
    }
}
