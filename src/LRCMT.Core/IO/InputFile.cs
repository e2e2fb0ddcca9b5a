using System.Globalization;
using System.Text;
using LRCMT.Errors;
using Microsoft.Win32.SafeHandles;

namespace LRCMT.IO;

/// <summary>
/// The one way the library reads a text, JSON or protobuf input: regular files only (a FIFO, device, socket, directory
/// or symbolic-link loop is an <see cref="InputFileException"/>, and a FIFO never blocks the open), and at most
/// <see cref="Limit"/> bytes for the file's <see cref="InputKind"/>, checked against the file's size before anything is
/// allocated and again while reading (a file that grows is cut off with the same error). Text is strict UTF-8.
/// Limits are raised with the environment variable <c>LRCMT_INPUT_LIMIT_&lt;KIND&gt;</c> (bytes), e.g.
/// <c>LRCMT_INPUT_LIMIT_TOKENIZER_JSON=268435456</c>; docs/reliability.md lists them.
/// </summary>
internal static class InputFile
{
    private const long MiB = 1024 * 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The default limit of each kind, in bytes.</summary>
    public static long DefaultLimit(InputKind kind) => kind switch
    {
        InputKind.TokenizerJson => 64 * MiB,
        InputKind.Vocabulary => 32 * MiB,
        InputKind.Merges => 64 * MiB,
        InputKind.Onnx => 2048 * MiB,
        InputKind.TorchPickle => 64 * MiB,
        _ => 16 * MiB,
    };

    /// <summary>The environment variable that overrides the limit of <paramref name="kind"/>.</summary>
    public static string LimitVariable(InputKind kind) =>
        "LRCMT_INPUT_LIMIT_" + string.Concat(kind.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));

    /// <summary>The limit in force for <paramref name="kind"/>: the environment override, else the default.</summary>
    /// <exception cref="InputFileException">The override is not a positive whole number of bytes (named with <paramref name="path"/>).</exception>
    public static long Limit(InputKind kind, string path = "")
    {
        var variable = LimitVariable(kind);
        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } text) return DefaultLimit(kind);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 && bytes <= Array.MaxLength
            ? bytes
            : throw new InputFileException(path, $"{variable}='{text}' must be a positive number of bytes, at most {Array.MaxLength}.");
    }

    /// <summary>
    /// Whether a directory entry of any kind is at <paramref name="path"/>, a dangling or looping link included: a
    /// loader that chooses between files must not take a broken <c>tokenizer.json</c> for a missing one.
    /// </summary>
    public static bool IsPresent(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>Reads a stream to its end, refusing more than the limit of <paramref name="kind"/>.</summary>
    /// <exception cref="InputFileException">The stream holds more than the limit.</exception>
    public static byte[] ReadAllBytes(Stream stream, InputKind kind, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var limit = Limit(kind, source);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit) throw TooLarge(source, kind, buffer.Length, limit);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// A binary input (safetensors, pickle, checkpoint, data file) opened for reading as a stream: regular files only, as
    /// for text (a FIFO never blocks the open, a device or link loop is refused), with no size limit of its own; the
    /// format's reader checks every size it reads against the stream's length.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">Not a regular file, a link loop, or unreadable.</exception>
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (handle, _) = OpenRegular(path);
        try
        {
            return new FileStream(handle, FileAccess.Read, bufferSize: 1 << 16);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The lower-case hex SHA-256 of a regular file's bytes, read in chunks (never whole into memory).</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">Not a regular file, a link loop, or unreadable.</exception>
    public static string Sha256(string path)
    {
        using var stream = OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Every byte of the file.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">Not a regular file, a link loop, unreadable, or over the limit.</exception>
    public static byte[] ReadAllBytes(string path, InputKind kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var limit = Limit(kind, path);
        var (handle, length) = OpenRegular(path);
        using (handle)
        {
            if (length > limit) throw TooLarge(path, kind, length, limit);
            // Read one byte past the size the file claimed: a file that grew while open is measured, not trusted.
            var buffer = new byte[Math.Min(length + 1, limit + 1)];
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.LongLength > limit) throw TooLarge(path, kind, total, limit);
                    Array.Resize(ref buffer, (int)Math.Min(limit + 1, Math.Max(4096, (long)buffer.Length * 2)));
                }

                var read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (read == 0) break;
                total += read;
            }

            if (total > limit) throw TooLarge(path, kind, total, limit);
            return total == buffer.Length ? buffer : buffer[..total];
        }
    }

    /// <summary>The file as strict UTF-8 text (a leading byte-order mark dropped).</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">Not a regular file, a link loop, unreadable, or over the limit.</exception>
    /// <exception cref="CorruptFileException">The bytes are not valid UTF-8 (the byte offset is named).</exception>
    public static string ReadAllText(string path, InputKind kind) => DecodeUtf8(ReadAllBytes(path, kind), path);

    /// <summary>
    /// The file's bytes, checked to be strict UTF-8 and without a leading byte-order mark: for JSON, which parses from
    /// UTF-8 directly, so a file is held once in memory rather than again as UTF-16 text.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">Not a regular file, a link loop, unreadable, or over the limit.</exception>
    /// <exception cref="CorruptFileException">The bytes are not valid UTF-8 (the byte offset is named).</exception>
    public static ReadOnlyMemory<byte> ReadAllUtf8(string path, InputKind kind)
    {
        var bytes = ReadAllBytes(path, kind);
        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(start)))
            throw new CorruptFileException(path, start + FirstInvalidByte(bytes.AsSpan(start)), "the text is not valid UTF-8 (Hugging Face refuses such files too).");
        return bytes.AsMemory(start);
    }

    /// <summary>Strict UTF-8 (as Hugging Face's loaders read), a leading byte-order mark dropped.</summary>
    /// <exception cref="CorruptFileException">The bytes are not valid UTF-8 (the byte offset is named).</exception>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, string source)
    {
        var start = bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
        try
        {
            return StrictUtf8.GetString(bytes[start..]);
        }
        catch (DecoderFallbackException e)
        {
            throw new CorruptFileException(source, start + FirstInvalidByte(bytes[start..]), "the text is not valid UTF-8 (Hugging Face refuses such files too).", e);
        }
    }

    private static long FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var consumed, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? bytes.Length : consumed;
    }

    private static (SafeFileHandle Handle, long Length) OpenRegular(string path)
    {
        // A NUL would end the path early at the system call and open another file than the one named.
        if (path.Contains('\0')) throw new ArgumentException($"The path '{path.Replace('\0', '?')}' holds a NUL character.", nameof(path));
        if (OperatingSystem.IsLinux() && LinuxFile.Available) return LinuxFile.OpenRegular(path);
        // Elsewhere .NET's own open (Windows refuses devices itself); the size limit still holds.
        if (Directory.Exists(path)) throw new InputFileException(path, "it is a directory, not a regular file.");
        if (!File.Exists(path)) throw Missing(path);
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return (handle, RandomAccess.GetLength(handle));
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new InputFileException(path, "it cannot be opened: " + e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InputFileException(path, "permission denied.", e);
        }
    }

    /// <summary>
    /// Nothing to read at <paramref name="path"/>: a <see cref="FileNotFoundException"/>, or, where the path is a
    /// symbolic link whose target does not exist (which <see cref="IsPresent"/> counts as present), an
    /// <see cref="InputFileException"/> naming the target.
    /// </summary>
    internal static Exception Missing(string path) =>
        new FileInfo(path).LinkTarget is { } target
            ? new InputFileException(path, $"it is a symbolic link to '{target}', which does not exist.")
            : new FileNotFoundException($"'{path}' does not exist.", path);

    // size: what the file system reported, or (while reading) more than the limit.
    private static InputFileException TooLarge(string path, InputKind kind, long size, long limit) =>
        new(path, $"it holds {(size > limit ? size : limit + 1):N0} bytes or more; a {kind} file may hold at most {limit:N0} " +
                  $"(raise the limit with the environment variable {LimitVariable(kind)}).");
}
