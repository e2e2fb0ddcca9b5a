namespace LRCMT.Cli;

/// <summary>A failure the CLI explains to the user in one message and maps to an <see cref="ExitCodes"/> value.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process exit code for this failure.</summary>
    public int ExitCode { get; } = exitCode;
}
