namespace LRCMT.Cli;

/// <summary>The exit-code list printed at the end of <c>lrcmt --help</c> (a test checks it names every code in <see cref="ExitCodes"/>).</summary>
internal static class ExitCodeHelp
{
    internal static readonly (int Code, string Meaning)[] Rows =
    [
        (ExitCodes.Success, "success"),
        (ExitCodes.UnexpectedError, "unexpected error"),
        (ExitCodes.UsageError, "invalid command line"),
        (ExitCodes.DataError, "data file missing or unreadable"),
        (ExitCodes.EncoderError, "encoder missing or unusable"),
        (ExitCodes.OutputExists, "output folder exists (use --force)"),
        (ExitCodes.ConfigurationError, "invalid settings"),
        (ExitCodes.RunError, "saved run missing files or not matching"),
        (ExitCodes.TrainingDiverged, "training diverged (NaN/Inf loss)"),
        (ExitCodes.OutputInUse, "output folder in use by another run"),
        (ExitCodes.WriteError, "a file could not be written (disk full, too large, permission)"),
        (ExitCodes.Interrupted, "interrupted by Ctrl+C (checkpoint kept)"),
    ];

    /// <summary>One line: "Exit codes: 0 success, 1 unexpected error, …".</summary>
    internal static string Text => "Exit codes: " + string.Join(", ", Rows.Select(r => $"{r.Code} {r.Meaning}")) + ".";
}
