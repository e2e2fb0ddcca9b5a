using System.Diagnostics;
using System.Text.RegularExpressions;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Cli.Runs;

/// <summary>
/// Proof that a hidden staging folder belongs to a live <c>lrcmt</c> process: a marker file holding the owner's pid and
/// start time, opened with an exclusive lock for as long as the run lasts. The operating system drops the lock when the
/// process dies (kill -9 included), so a later run can tell a stale staging folder of its own from a live one — and
/// from any folder it did not create, which has no marker and is never touched.
/// </summary>
internal sealed partial class StagingMarker : IDisposable
{
    /// <summary>The marker's file name inside a staging folder.</summary>
    internal const string FileName = ".lrcmt-staging";

    private readonly FileStream _lock;

    private StagingMarker(FileStream stream) => _lock = stream;

    /// <summary>Writes and locks the marker in <paramref name="staging"/>.</summary>
    internal static StagingMarker Create(string staging)
    {
        var stream = new FileStream(Path.Combine(staging, FileName), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        using var process = Process.GetCurrentProcess();
        var text = System.Text.Encoding.UTF8.GetBytes($"lrcmt staging folder\npid {Environment.ProcessId}\nstarted {process.StartTime.ToUniversalTime():O}\n");
        stream.Write(text);
        stream.Flush(flushToDisk: true);
        return new StagingMarker(stream);
    }

    /// <summary>
    /// True when <paramref name="folder"/> carries a marker whose lock nobody holds: its run ended without committing or
    /// cleaning up (a second Ctrl+C, SIGKILL, a power cut). Folders without a marker are never ours.
    /// </summary>
    internal static bool IsStale(string folder)
    {
        string marker = Path.Combine(folder, FileName);
        if (!File.Exists(marker)) return false;
        try
        {
            using var probe = new FileStream(marker, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            using var reader = new StreamReader(probe, leaveOpen: true);
            var pid = PidLine().Match(reader.ReadToEnd());
            return !(pid.Success && int.Parse(pid.Groups[1].Value) == Environment.ProcessId);
        }
        catch (IOException)
        {
            return false; // locked: its run is alive
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Deletes the half-written temporary files our own writers leave when killed mid-write
    /// (<c>.name.&lt;32 hex&gt;.tmp</c>, see <c>SafetensorsFile.Save</c>), and the marker.</summary>
    internal static void RemoveLeftovers(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*.tmp", SearchOption.AllDirectories).ToList())
            if (TempName().IsMatch(Path.GetFileName(file))) File.Delete(file);
        string marker = Path.Combine(folder, FileName);
        if (File.Exists(marker)) File.Delete(marker);
    }

    /// <summary>Releases the lock and deletes the marker (before the folder is committed or kept).</summary>
    public void Dispose()
    {
        string path = _lock.Name;
        _lock.Dispose();
        if (File.Exists(path)) File.Delete(path);
    }

    [GeneratedRegex(@"^pid (\d+)$", RegexOptions.Multiline)]
    private static partial Regex PidLine();

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();
}
