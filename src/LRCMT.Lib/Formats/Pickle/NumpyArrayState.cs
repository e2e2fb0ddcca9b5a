namespace LRCMT.Formats.Pickle;

/// <summary>
/// A numpy array while it is being unpickled: <c>_reconstruct</c> creates it empty and BUILD passes numpy's state
/// <c>(version, shape, dtype, is_fortran, data)</c>, where data is raw bytes, or a list for object arrays.
/// </summary>
internal sealed class NumpyArrayState
{
    private NdArray? _array;

    /// <summary>The finished array; throws if BUILD never ran.</summary>
    public NdArray Array => _array ?? throw new NotSupportedException("a numpy array was reconstructed but never given its state");

    /// <summary>Called by the unpickler's BUILD.</summary>
    public void __setstate__(object[] state)
    {
        // Version 0 pickles omit the leading version number.
        int o = state.Length == 5 ? 1 : state.Length == 4 ? 0 : throw new NotSupportedException($"numpy array state has {state.Length} items, expected 4 or 5");
        long[] shape = NumpyConstructors.ToShape(state[o]);
        var dtype = state[o + 1] as NumpyDType ?? throw new NotSupportedException("numpy array state without a dtype");
        bool fortran = state[o + 2] is true;
        long count = ElementCount(shape);
        if (state[o + 3] is null) // the reader left out a payload too large for a .NET array
        {
            _array = new NdArray(dtype.Name, shape, System.Array.Empty<byte>(), omitted: true);
            return;
        }

        System.Array data = dtype.IsObject
            ? NumpyConstructors.ToObjects(state[o + 3]!)
            : dtype.Decode(NumpyConstructors.ToBytes(state[o + 3]), count);
        if (data.LongLength != count)
            throw new NotSupportedException($"numpy array of shape [{string.Join(", ", shape)}] holds {data.LongLength} elements");
        if (fortran && shape.Length > 1) data = ToRowMajor(data, shape);
        _array = new NdArray(dtype.Name, shape, data);
    }

    /// <summary>The product of the dimensions, refusing negative ones and products past 64 bits.</summary>
    internal static long ElementCount(long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new InvalidDataException($"numpy array shape [{string.Join(", ", shape)}] has a negative dimension");
            try { count = checked(count * d); }
            catch (OverflowException) { throw new InvalidDataException($"numpy array shape [{string.Join(", ", shape)}] has more than 2^63 elements"); }
        }
        return count;
    }

    /// <summary>Reorders column-major elements into row-major order.</summary>
    private static System.Array ToRowMajor(System.Array columnMajor, long[] shape)
    {
        var rowMajor = System.Array.CreateInstance(columnMajor.GetType().GetElementType()!, columnMajor.LongLength);
        var index = new long[shape.Length];
        for (long c = 0; c < columnMajor.LongLength; c++)
        {
            long f = 0, stride = 1;
            for (int d = 0; d < shape.Length; d++) { f += index[d] * stride; stride *= shape[d]; }
            rowMajor.SetValue(columnMajor.GetValue(f), c);
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return rowMajor;
    }
}
