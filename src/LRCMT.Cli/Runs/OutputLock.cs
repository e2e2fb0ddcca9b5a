using System.Text;
using LRCMT.Errors;
using LRCMT.IO;

namespace LRCMT.Cli.Runs;

/// <summary>
/// An exclusive lock on an output folder for as long as a run writes it: the file <c>.&lt;name&gt;.lrcmt-lock</c> beside
/// the folder, held open with the operating system's exclusive lock (released by the kernel if the process dies, so a
/// killed run never leaves the folder locked). A second run into the same folder cannot take it and stops with
/// <see cref="ExitCodes.OutputInUse"/> before it writes anything; without it, both runs would report success while one
/// result silently replaced the other.
/// </summary>
internal sealed class OutputLock : IDisposable
{
    private const int UnixWouldBlock = 11, MacWouldBlock = 35;
    private const int WindowsSharingViolation = unchecked((int)0x80070020), WindowsLockViolation = unchecked((int)0x80070021);

    private readonly FileStream _stream;
    private readonly string _path;

    private OutputLock(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>The lock file of <paramref name="target"/> (a full path).</summary>
    internal static string PathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.lrcmt-lock");

    /// <summary>Takes the lock of <paramref name="target"/> (a full path whose parent exists).</summary>
    /// <exception cref="CliException">Another live run holds it (<see cref="ExitCodes.OutputInUse"/>).</exception>
    /// <exception cref="OutputFileException">The lock file cannot be written.</exception>
    internal static OutputLock Acquire(string target)
    {
        var path = PathFor(target);
        var token = Encoding.UTF8.GetBytes($"lrcmt output lock\npid {Environment.ProcessId}\nrun {Guid.NewGuid():N}\nsince {DateTime.UtcNow:O}\n");
        for (var attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                // On Windows the share mode is the lock and the file goes with the last handle; on Unix .NET takes flock(LOCK_EX).
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1,
                    OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None);
            }
            catch (IOException e) when (e.HResult is UnixWouldBlock or MacWouldBlock or WindowsSharingViolation or WindowsLockViolation)
            {
                throw new CliException(ExitCodes.OutputInUse,
                    $"Another lrcmt run is writing to '{target}'{Holder(path)}. Wait for it to finish, or choose another --output.", e);
            }
            catch (Exception e) when (OutputFile.Describe(e) is { } problem)
            {
                throw new OutputFileException(path, $"the output folder's lock file cannot be written: {problem}", e);
            }

            try
            {
                stream.SetLength(0);
                stream.Write(token);
                stream.Flush(flushToDisk: true);
                // On Unix a holder that was releasing may have unlinked the file between our open and our lock: then we
                // hold a lock on a file no other run can find. Only the file still at the path is the lock.
                if (!RemovedOnRelease || StillAt(path, token)) return new OutputLock(stream, path);
            }
            catch
            {
                stream.Dispose();
                throw;
            }

            stream.Dispose();
            if (attempt == 20) throw new CliException(ExitCodes.OutputInUse, $"The lock of the output folder '{target}' keeps changing hands ({path}); another run is starting into it.");
        }
    }

    /// <summary>
    /// Whether releasing removes the lock file (on Windows the file goes with its handle): only where a taker can check,
    /// without a lock of its own, that the file it locked is still the one at the path (Linux's bounded reader opens
    /// without <c>flock</c>). Elsewhere the small file stays, unlocked, and the next run takes it over.
    /// </summary>
    private static bool RemovedOnRelease => OperatingSystem.IsLinux() && LinuxFile.Available;

    /// <summary>Removes the lock file (while still holding it, so no run can take the file being removed) and releases it.</summary>
    public void Dispose()
    {
        if (RemovedOnRelease)
        {
            try
            {
                File.Delete(_path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind, unlocked: the next run takes it over.
            }
        }
        _stream.Dispose();
    }

    // Read without a lock of our own (the bounded reader opens without flock).
    private static bool StillAt(string path, byte[] token)
    {
        try
        {
            return InputFile.ReadAllBytes(path, InputKind.RunSettings).AsSpan().SequenceEqual(token);
        }
        catch (Exception e) when (e is FileNotFoundException or LrcmtException)
        {
            return false;
        }
    }

    // " (process 1234, since …)" from the holder's lock file, where readable.
    private static string Holder(string path)
    {
        try
        {
            var lines = InputFile.ReadAllText(path, InputKind.RunSettings).Split('\n');
            var pid = lines.FirstOrDefault(l => l.StartsWith("pid ", StringComparison.Ordinal))?[4..];
            var since = lines.FirstOrDefault(l => l.StartsWith("since ", StringComparison.Ordinal))?[6..];
            return pid is null ? "" : $" (process {pid}{(since is null ? "" : $", since {since}")})";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LrcmtException)
        {
            return "";
        }
    }
}
