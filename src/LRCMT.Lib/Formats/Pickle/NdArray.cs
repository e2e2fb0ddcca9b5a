using LRCMT.Errors;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// A numpy array read from a pickle: its shape and its elements in C (row-major) order, held in a typed .NET array
/// (<c>float[]</c> for float32, <c>double[]</c> for float64, <c>long[]</c> for int64, <c>bool[]</c>, <c>string[]</c>
/// for unicode arrays, <c>object?[]</c> for object arrays, and so on).
/// </summary>
internal sealed class NdArray
{
    internal NdArray(string dtype, long[] shape, Array data, bool omitted = false)
    {
        DType = dtype;
        Shape = shape;
        Data = data;
        IsOmitted = omitted;
    }

    /// <summary>numpy's name of the element type, e.g. <c>float32</c>, <c>int64</c>, <c>object</c>, <c>&lt;U5</c>.</summary>
    public string DType { get; }

    /// <summary>The shape; empty for a 0-d array.</summary>
    public long[] Shape { get; }

    /// <summary>The elements in row-major order (empty when <see cref="IsOmitted"/>).</summary>
    public Array Data { get; }

    /// <summary>True when the elements were not read because they exceed what a .NET array can hold; shape and dtype are still known.</summary>
    public bool IsOmitted { get; }

    /// <summary>Number of elements (from the shape).</summary>
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>The elements as float32 (numeric and bool arrays; float64 and integers are converted).</summary>
    /// <exception cref="InvalidCastException">The array holds strings or objects.</exception>
    /// <exception cref="InvalidOperationException">The array <see cref="IsOmitted">was not read</see>.</exception>
    public float[] ToSingleArray() => Loaded switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, v => (float)v),
        Half[] h => Array.ConvertAll(h, v => (float)v),
        bool[] b => Array.ConvertAll(b, v => v ? 1f : 0f),
        _ when IsInteger => ConvertIntegers(v => (float)v),
        _ => throw new InvalidCastException($"A numpy array of dtype {DType} cannot be read as float32."),
    };

    /// <summary>The elements as int64 (integer and bool arrays; floats are truncated towards zero, as numpy's astype does).</summary>
    /// <exception cref="InvalidCastException">The array holds strings or objects.</exception>
    public long[] ToInt64Array() => Loaded switch
    {
        long[] l => l,
        float[] f => Array.ConvertAll(f, v => (long)v),
        double[] d => Array.ConvertAll(d, v => (long)v),
        bool[] b => Array.ConvertAll(b, v => v ? 1L : 0L),
        _ when IsInteger => ConvertIntegers(v => v),
        _ => throw new InvalidCastException($"A numpy array of dtype {DType} cannot be read as int64."),
    };

    /// <summary>The elements as strings (unicode arrays, and object arrays whose elements are all strings).</summary>
    /// <exception cref="InvalidCastException">An element is not a string.</exception>
    public string[] ToStringArray() => Loaded switch
    {
        string[] s => s,
        object?[] o => Array.ConvertAll(o, v => v as string
            ?? throw new InvalidCastException($"A numpy object array holds a {v?.GetType().Name ?? "None"}, not a string.")),
        _ => throw new InvalidCastException($"A numpy array of dtype {DType} does not hold strings."),
    };

    /// <summary>Throws <see cref="ShapeMismatchException"/> unless the array has <paramref name="rank"/> dimensions.</summary>
    internal NdArray RequireRank(int rank, string what, string expected)
    {
        if (Shape.Length != rank) throw new ShapeMismatchException(what, expected, Shape);
        return this;
    }

    /// <inheritdoc />
    public override string ToString() => $"ndarray({DType}, {ShapeMismatchException.Format(Shape)})";

    private Array Loaded => IsOmitted
        ? throw new InvalidOperationException($"This {DType} array of shape {ShapeMismatchException.Format(Shape)} was not read: it is larger than a .NET array can hold.")
        : Data;

    private bool IsInteger => Data is sbyte[] or byte[] or short[] or ushort[] or int[] or uint[] or long[] or ulong[];

    private T[] ConvertIntegers<T>(Func<long, T> convert)
    {
        var result = new T[Data.Length];
        for (int i = 0; i < result.Length; i++) result[i] = convert(Convert.ToInt64(Data.GetValue(i)));
        return result;
    }
}
