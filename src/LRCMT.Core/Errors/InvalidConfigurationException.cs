namespace LRCMT.Errors;

/// <summary>A configuration (builder, options, LoRA settings) is invalid; <see cref="Problems"/> lists every problem found.</summary>
public sealed class InvalidConfigurationException : LrcmtException
{
    /// <summary>Creates the exception from one or more problems.</summary>
    public InvalidConfigurationException(string what, IReadOnlyList<string> problems)
        : base($"Invalid {what}: " + string.Join(" ", problems.Select((p, i) => $"({i + 1}) {p}")))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception from a single problem.</summary>
    public InvalidConfigurationException(string what, string problem) : this(what, new[] { problem }) { }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
