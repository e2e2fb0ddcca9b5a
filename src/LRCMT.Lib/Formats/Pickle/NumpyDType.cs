using System.Runtime.InteropServices;
using System.Text;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// A numpy dtype as pickled: <c>numpy.dtype("f4", False, True)</c> followed by a state tuple
/// <c>(version, byteorder, subarray, names, fields, elsize, alignment, flags)</c>. Only plain (non-structured) dtypes are
/// supported; the state's byte order decides whether element bytes are swapped.
/// </summary>
internal sealed class NumpyDType
{
    public NumpyDType(string descriptor)
    {
        if (descriptor.Length < 2 || !int.TryParse(descriptor.AsSpan(1), System.Globalization.NumberStyles.None, null, out int size)
            || size > MaxItemSize / 4)
            throw new NotSupportedException($"numpy dtype '{descriptor}' is not a plain type code such as 'f4' (element sizes up to {MaxItemSize / 4})");
        Kind = descriptor[0];
        ItemSize = Kind == 'U' ? size * 4 : size;
    }

    /// <summary>Largest element accepted, in bytes; numpy's fixed-width strings are far smaller in any data file.</summary>
    private const int MaxItemSize = 1 << 24;

    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; private set; }

    public bool BigEndian { get; private set; }

    public bool IsObject => Kind == 'O';

    public string Name => Kind switch
    {
        'f' => $"float{ItemSize * 8}",
        'i' => $"int{ItemSize * 8}",
        'u' => $"uint{ItemSize * 8}",
        'b' => "bool",
        'O' => "object",
        'U' => $"<U{ItemSize / 4}",
        'S' => $"|S{ItemSize}",
        _ => $"{Kind}{ItemSize}",
    };

    /// <summary>Called by the unpickler's BUILD with numpy's dtype state.</summary>
    public void __setstate__(object[] state)
    {
        if (state.Length < 2 || state[1] is not string order)
            throw new NotSupportedException("numpy dtype state without a byte order");
        BigEndian = order == ">";
        if (state.Length > 3 && state[3] is not null)
            throw new NotSupportedException("structured numpy dtypes (with field names) are not supported");
        if (state.Length > 5 && Convert.ToInt64(state[5]) is > 0 and var elsize)
            ItemSize = elsize <= MaxItemSize ? (int)elsize : throw new NotSupportedException($"numpy dtype state gives an element size of {elsize} bytes (at most {MaxItemSize})");
    }

    /// <summary>Decodes <paramref name="count"/> elements from raw bytes in C order.</summary>
    public Array Decode(byte[] raw, long count)
    {
        if (count < 0) throw new InvalidDataException($"numpy {Name} array with a negative element count {count}");
        if (ItemSize == 0 && count > 0)
            throw new InvalidDataException($"numpy {Name} array claims {count} elements of zero bytes each; zero-width elements are refused");
        long needed;
        try { needed = checked(count * ItemSize); }
        catch (OverflowException) { throw new InvalidDataException($"numpy {Name} array of {count} elements needs more than 2^63 bytes"); }
        if (raw.LongLength != needed)
            throw new InvalidDataException($"numpy {Name} array of {count} elements needs {needed} bytes but holds {raw.LongLength}");
        byte[] bytes = BigEndian && ItemSize > 1 && Kind is 'f' or 'i' or 'u' or 'U' ? Swap(raw, Kind == 'U' ? 4 : ItemSize) : raw;
        return (Kind, ItemSize) switch
        {
            ('f', 2) => Cast<Half>(bytes),
            ('f', 4) => Cast<float>(bytes),
            ('f', 8) => Cast<double>(bytes),
            ('i', 1) => Cast<sbyte>(bytes),
            ('i', 2) => Cast<short>(bytes),
            ('i', 4) => Cast<int>(bytes),
            ('i', 8) => Cast<long>(bytes),
            ('u', 1) => bytes.ToArray(),
            ('u', 2) => Cast<ushort>(bytes),
            ('u', 4) => Cast<uint>(bytes),
            ('u', 8) => Cast<ulong>(bytes),
            ('b', 1) => Array.ConvertAll(bytes, b => b != 0),
            ('U', _) => FixedStrings(bytes, count, s => Encoding.UTF32.GetString(s)),
            ('S', _) => FixedStrings(bytes, count, s => Encoding.Latin1.GetString(s)),
            _ => throw new NotSupportedException($"numpy dtype {Name} is not supported"),
        };
    }

    private static T[] Cast<T>(byte[] bytes) where T : struct => MemoryMarshal.Cast<byte, T>(bytes).ToArray();

    private string[] FixedStrings(byte[] bytes, long count, Func<byte[], string> decode)
    {
        var result = new string[count];
        for (long i = 0; i < count; i++)
            result[i] = decode(bytes.AsSpan((int)(i * ItemSize), ItemSize).ToArray()).TrimEnd('\0');
        return result;
    }

    private static byte[] Swap(byte[] raw, int width)
    {
        var swapped = (byte[])raw.Clone();
        for (int i = 0; i < swapped.Length; i += width) Array.Reverse(swapped, i, width);
        return swapped;
    }
}
