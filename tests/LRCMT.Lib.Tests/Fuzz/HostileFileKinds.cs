using System.Runtime.InteropServices;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Things that are not a regular file of the expected kind, made for real at a path: a FIFO with no writer (an open
/// that blocks), links to endless devices, a symbolic-link loop, a dangling link, a directory, an empty file and a
/// sparse file one byte past the kind's size limit (no disk is used). Every loader must refuse each with a typed error.
/// </summary>
internal static class HostileFileKinds
{
    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, uint mode);

    /// <summary>The cases; <paramref name="sizeLimit"/> is the loader's limit for its kind (null: no past-the-limit case).</summary>
    internal static IEnumerable<HostileCase> All(long? sizeLimit)
    {
        if (!OperatingSystem.IsWindows())
        {
            yield return new("a FIFO without a writer", path =>
            {
                if (MakeFifo(path, Convert.ToUInt32("600", 8)) != 0) throw new IOException($"mkfifo failed: errno {Marshal.GetLastPInvokeError()}");
            });
            yield return new("a link to /dev/zero", path => File.CreateSymbolicLink(path, "/dev/zero"));
            yield return new("a link to /dev/urandom", path => File.CreateSymbolicLink(path, "/dev/urandom"));
            yield return new("a symbolic-link loop of two", path =>
            {
                File.CreateSymbolicLink(path, path + ".other");
                File.CreateSymbolicLink(path + ".other", path);
            });
            yield return new("a link to itself", path => File.CreateSymbolicLink(path, path));
            yield return new("a dangling link", path => File.CreateSymbolicLink(path, path + ".missing"));
        }

        yield return new("a directory", path => Directory.CreateDirectory(path));
        yield return new("an empty file", path => File.WriteAllBytes(path, []));
        if (sizeLimit is { } limit)
        {
            yield return new($"a sparse file of {limit + 1:N0} bytes (one past the limit)", path =>
            {
                using var file = new FileStream(path, FileMode.CreateNew);
                file.SetLength(limit + 1);
                file.Position = 0;
                file.Write("{\"a\":"u8);
            });
        }
    }

    /// <summary>Removes a case folder without following links (a link to a device is removed, not its target).</summary>
    internal static void Remove(string folder)
    {
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null || entry is FileInfo) entry.Delete();
            else Remove(entry.FullName);
        }

        Directory.Delete(folder);
    }
}
