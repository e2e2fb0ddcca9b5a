namespace LRCMT.Cli;

/// <summary>
/// Process exit codes, stable so scripts can branch on them (documented in docs/getting-started.md).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command finished.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure (a bug or an environment problem); the message says what happened.</summary>
    public const int UnexpectedError = 1;

    /// <summary>The command line could not be parsed or an option value is invalid.</summary>
    public const int UsageError = 2;

    /// <summary>The data file is missing, unreadable or not MMSA-formatted.</summary>
    public const int DataError = 3;

    /// <summary>The encoder (HF folder or ONNX model) is missing or has no usable weights.</summary>
    public const int EncoderError = 4;

    /// <summary>The output folder already exists and --force was not given.</summary>
    public const int OutputExists = 5;

    /// <summary>The configuration (JSON file or flags) is invalid; every problem is listed.</summary>
    public const int ConfigurationError = 6;

    /// <summary>The saved run given to <c>eval</c> is missing files or does not match its configuration.</summary>
    public const int RunError = 7;

    /// <summary>Training stopped because the loss became NaN or infinite.</summary>
    public const int TrainingDiverged = 8;

    /// <summary>Another <c>lrcmt</c> run is writing to the same output folder (it holds the folder's lock); nothing was written.</summary>
    public const int OutputInUse = 9;

    /// <summary>
    /// A file could not be written (disk or quota full, file larger than the file system or <c>ulimit -f</c> allows,
    /// read-only or no permission); the message names the file and, when a checkpoint existed, the folder the run was kept in.
    /// </summary>
    public const int WriteError = 10;

    /// <summary>Ctrl+C: training stopped after the current step; the last checkpoint was kept (128 + SIGINT, as shells do).</summary>
    public const int Interrupted = 130;
}
