using LRCMT.Errors;
using Razorvine.Pickle;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// Reads Python pickles that hold only data: dicts, lists, tuples, strings, numbers, bytes and numpy arrays
/// (protocols 0–5, numpy 1 and 2). Every other import is refused with <see cref="UnsafePickleException"/> before
/// anything in the file is built, because unpickling an arbitrary global is how a pickle runs code.
/// </summary>
/// <remarks>
/// Results are plain .NET values: dict → <see cref="Dictionary{TKey,TValue}"/> of object → object?, list →
/// <see cref="List{T}"/> of object?, tuple → object?[], set → <see cref="HashSet{T}"/>, numpy array →
/// <see cref="NdArray"/>, numpy scalar → its .NET value, int → int/long/BigInteger, float → double, bytes → byte[].
/// A bytes value larger than a .NET array can hold (about 2 GB, e.g. MOSEI's BERT <c>text</c> features) is not read:
/// its array comes back with <see cref="NdArray.IsOmitted"/> set, so the rest of the file still loads.
/// </remarks>
internal static class SafePickle
{
    /// <summary>Reads a pickle file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="outOfBandBuffers">Protocol 5 out-of-band buffers, in the order the pickler handed them out.</param>
    /// <exception cref="UnsafePickleException">The pickle imports something other than numpy's data types.</exception>
    /// <exception cref="CorruptFileException">The file is truncated or not a (supported) pickle.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static object? Load(string path, IReadOnlyList<ReadOnlyMemory<byte>>? outOfBandBuffers = null)
        => Load(path, Array.MaxLength, outOfBandBuffers);

    /// <summary>As <see cref="Load(string, IReadOnlyList{ReadOnlyMemory{byte}}?)"/>; bytes values longer than <paramref name="maxInlineBytes"/> are left out.</summary>
    internal static object? Load(string path, long maxInlineBytes, IReadOnlyList<ReadOnlyMemory<byte>>? outOfBandBuffers = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IReadOnlyList<(long, long)> oversized;
        using (var guardStream = LRCMT.IO.InputFile.OpenRead(path))
            oversized = PickleGlobalGuard.Check(new BufferedStream(guardStream, 1 << 16), path, maxInlineBytes);
        using var stream = new BufferedStream(new ElidingStream(LRCMT.IO.InputFile.OpenRead(path), oversized), 1 << 20);
        return Unpickle(stream, path, outOfBandBuffers);
    }

    /// <summary>Reads a pickle from memory; <paramref name="sourceName"/> names it in errors.</summary>
    /// <inheritdoc cref="Load(string, IReadOnlyList{ReadOnlyMemory{byte}}?)"/>
    public static object? Load(byte[] pickle, string sourceName = "<pickle bytes>", IReadOnlyList<ReadOnlyMemory<byte>>? outOfBandBuffers = null)
    {
        ArgumentNullException.ThrowIfNull(pickle);
        PickleGlobalGuard.Check(new MemoryStream(pickle, writable: false), sourceName);
        return Unpickle(new MemoryStream(pickle, writable: false), sourceName, outOfBandBuffers);
    }

    private static object? Unpickle(Stream stream, string source, IReadOnlyList<ReadOnlyMemory<byte>>? buffers)
    {
        NumpyConstructors.EnsureRegistered();
        try
        {
            using var unpickler = new BufferedUnpickler(buffers ?? []);
            return PlainObjectConverter.Convert(unpickler.load(stream), source);
        }
        // Razorvine trusts the program's shape: APPEND onto None, for one, surfaces as a NullReferenceException from inside
        // the unpickler (found by the fuzz suite). Those are malformed files too, so they are reported as such.
        catch (Exception e) when (e is PickleException or NotSupportedException or InvalidCastException or InvalidDataException
                                      or IOException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException
                                      or NullReferenceException or InvalidOperationException or KeyNotFoundException)
        {
            throw new CorruptFileException(source, null, $"cannot rebuild the pickled data: {Describe(Innermost(e))}", e);
        }
    }

    // .NET's own null-reference text says nothing about the file; the opcodes that cause it are caught by the guard, and
    // any other sequence that reaches one is described in the file's terms.
    private static string Describe(Exception e) => e is NullReferenceException
        ? "an opcode operates on a value the pickle never created (the file is corrupt or was not written by pickle)"
        : e.Message;

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);

    /// <summary>Supplies protocol 5 out-of-band buffers to Razorvine.</summary>
    private sealed class BufferedUnpickler(IReadOnlyList<ReadOnlyMemory<byte>> buffers) : Unpickler
    {
        private int _next;

        public override object nextBuffer() => _next < buffers.Count
            ? buffers[_next++].ToArray()
            : throw new PickleException($"the pickle asks for out-of-band buffer #{_next + 1} but only {buffers.Count} were given");
    }
}
