namespace LRCMT.Cli.Runs;

/// <summary>
/// Writes a small text file so that a reader (or a run resumed after SIGKILL) sees the old file or the new one, never a
/// half-written one: the text goes to a temporary file beside it, flushed to disk, then renamed over it. The temporary
/// name is the one <see cref="StagingMarker.RemoveLeftovers"/> knows (<c>.name.&lt;32 hex&gt;.tmp</c>), as the
/// library's safetensors writer uses.
/// </summary>
internal static class AtomicFile
{
    internal static void WriteAllText(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
