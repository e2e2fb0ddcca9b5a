using LRCMT.Errors;

namespace LRCMT.IO;

/// <summary>
/// The one place that tells a failed write from other errors: a full disk or quota, a file past the file system's or the
/// process's size limit, a read-only file system, a denied permission. Writers run through <see cref="Write"/>, which
/// turns such a failure into an <see cref="OutputFileException"/> naming the path (.NET reports a file that grows past
/// <c>ulimit -f</c> as an <see cref="ArgumentOutOfRangeException"/> without one); any other exception passes unchanged.
/// </summary>
internal static class OutputFile
{
    // errno values (Linux; macOS shares all but EDQUOT) and Windows HRESULTs for a full disk.
    private const int EIO = 5, EACCES = 13, EFBIG = 27, ENOSPC = 28, EROFS = 30, EDQUOT = 122, MacEDQUOT = 69;
    private const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>Runs <paramref name="write"/>, which writes <paramref name="path"/>; a write failure becomes an <see cref="OutputFileException"/>.</summary>
    /// <exception cref="OutputFileException">The write failed for a reason of the file system (<see cref="Describe"/>).</exception>
    public static void Write(string path, Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            write();
        }
        catch (Exception e) when (Describe(e) is { } problem)
        {
            throw new OutputFileException(path, problem, e);
        }
    }

    /// <summary>Why <paramref name="e"/> is a failed write, in words, or null when it is not one.</summary>
    public static string? Describe(Exception e) => e switch
    {
        OutputFileException written => written.Message,
        // What .NET throws when a write would pass the largest file the file system or RLIMIT_FSIZE allows (EFBIG).
        ArgumentOutOfRangeException { ParamName: "value" } when e.TargetSite?.DeclaringType?.Namespace?.StartsWith("System.IO", StringComparison.Ordinal) != false
            => "the file would be larger than the file system or the process's file-size limit (ulimit -f) allows.",
        UnauthorizedAccessException => "permission denied (or the file system is read-only).",
        IOException { HResult: ENOSPC or WindowsDiskFull or WindowsHandleDiskFull } => "no space left on the device.",
        IOException { HResult: EDQUOT or MacEDQUOT } when !OperatingSystem.IsWindows() => "the disk quota is exhausted.",
        IOException { HResult: EFBIG } when !OperatingSystem.IsWindows() => "the file would be larger than the file system or the process's file-size limit allows.",
        IOException { HResult: EROFS } when !OperatingSystem.IsWindows() => "the file system is read-only.",
        IOException { HResult: EACCES } when !OperatingSystem.IsWindows() => "permission denied.",
        IOException { HResult: EIO } when !OperatingSystem.IsWindows() => "an input/output error of the device.",
        _ => null,
    };
}
