using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LRCMT.IO;

/// <summary>
/// Opens a file on Linux the way <see cref="InputFile"/> needs and .NET's <c>File.Open</c> cannot: non-blocking (so a
/// FIFO without a writer does not hang the open), then asks the kernel what was opened (<c>statx</c> on the open
/// descriptor, whose layout is the same on every Linux architecture), so the type checked is the type read.
/// </summary>
internal static class LinuxFile
{
    // Linux's generic values (x86-64 and arm64 alike).
    private const int ReadOnly = 0, NoControllingTerminal = 0x100, NonBlocking = 0x800, CloseOnExec = 0x80000;
    private const int EmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxSize = 0x200;
    private const int ModeOffset = 28, SizeOffset = 40, StatxBufferSize = 256;
    private const int FileTypeMask = 0xF000;
    private const int NoSuchFile = 2, Interrupted = 4, AccessDenied = 13, NotADirectory = 20, IsADirectory = 21, TooManyLinks = 40, NameTooLong = 36;

    /// <summary>Whether this C library has <c>statx</c> (glibc 2.28 and later, musl 1.2.5); without it .NET's open is used.</summary>
    public static bool Available { get; } = Probe();

    private static bool Probe()
    {
        try
        {
            return statx(-1, "", EmptyPath, StatxType, new byte[StatxBufferSize]) is 0 or -1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A regular file opened for reading, and its length; anything else is refused with a typed error.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="Errors.InputFileException">Not a regular file, a symbolic link loop, or not readable.</exception>
    public static (SafeFileHandle Handle, long Length) OpenRegular(string path)
    {
        int fd;
        do fd = open(path, ReadOnly | NonBlocking | CloseOnExec | NoControllingTerminal);
        while (fd < 0 && Marshal.GetLastPInvokeError() == Interrupted);
        if (fd < 0) throw OpenError(path, Marshal.GetLastPInvokeError());
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var buffer = new byte[StatxBufferSize];
            if (statx(fd, "", EmptyPath, StatxType | StatxSize, buffer) != 0)
                throw new Errors.InputFileException(path, $"the file's type cannot be read (errno {Marshal.GetLastPInvokeError()}).");
            var mode = BitConverter.ToUInt16(buffer, ModeOffset) & FileTypeMask;
            if (mode != 0x8000) throw new Errors.InputFileException(path, $"it is {Describe(mode)}, not a regular file; only regular files (or links to them) are read.");
            return (handle, (long)BitConverter.ToUInt64(buffer, SizeOffset));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string Describe(int mode) => mode switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => $"a file of type 0x{mode:X}",
    };

    private static Exception OpenError(string path, int errno) => errno switch
    {
        NoSuchFile or NotADirectory => InputFile.Missing(path),
        TooManyLinks => new Errors.InputFileException(path, "it is a loop of symbolic links (or a chain of more than 40)."),
        AccessDenied => new Errors.InputFileException(path, "permission denied."),
        IsADirectory => new Errors.InputFileException(path, "it is a directory, not a regular file."),
        NameTooLong => new Errors.InputFileException(path, "the path is too long."),
        _ => new Errors.InputFileException(path, $"it cannot be opened (errno {errno})."),
    };

#pragma warning disable SYSLIB1054, CA2101 // plain DllImport: the signatures are blittable apart from the UTF-8 path
    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
#pragma warning restore SYSLIB1054, CA2101
}
