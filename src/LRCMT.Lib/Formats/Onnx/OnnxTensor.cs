using System.Runtime.InteropServices;
using LRCMT.Errors;
using static TorchSharp.torch;

namespace LRCMT.Formats.Onnx;

/// <summary>
/// One ONNX <c>TensorProto</c> as stored: its values sit either in <c>raw_data</c> (little-endian bytes) or in a typed
/// repeated field (<c>float_data</c>, <c>int64_data</c>), or in an external file.
/// </summary>
internal sealed record OnnxTensor(
    string Name,
    long[] Dims,
    OnnxDataType DataType,
    ReadOnlyMemory<byte>? RawData,
    IReadOnlyList<float> FloatData,
    IReadOnlyList<long> Int64Data,
    bool IsExternal,
    long? Offset)
{
    /// <summary>The product of the dimensions; negative dimensions and products past 64 bits count as -1 (never valid).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var d in Dims)
            {
                if (d < 0) return -1;
                try { count = checked(count * d); }
                catch (OverflowException) { return -1; }
            }
            return count;
        }
    }

    public bool IsFloatingPoint => DataType is OnnxDataType.Float or OnnxDataType.Double;

    /// <summary>Copies the values into a CPU tensor of the stored shape (float32 or float64).</summary>
    public Tensor ToTorch(string source)
    {
        RequireInline(source);
        switch (DataType)
        {
            case OnnxDataType.Float when RawData is { } raw:
                return FromBytes(CheckedRaw(raw, sizeof(float), source), ScalarType.Float32);
            case OnnxDataType.Float:
                return tensor(CheckedCount(FloatData, source).ToArray(), Dims);
            case OnnxDataType.Double when RawData is { } raw:
                return FromBytes(CheckedRaw(raw, sizeof(double), source), ScalarType.Float64);
            default:
                throw new CorruptFileException(source, Offset,
                    $"initializer '{Name}' has element type {DataType}; weights must be stored as FLOAT or DOUBLE (raw_data or float_data).");
        }
    }

    // One copy, straight from the file bytes into the tensor's storage (ONNX raw_data is little-endian, as is x64).
    private Tensor FromBytes(ReadOnlyMemory<byte> raw, ScalarType dtype)
    {
        var result = empty(Dims, dtype);
        // The setter only reads the span; it is typed writable.
        if (raw.Length > 0) result.bytes = MemoryMarshal.AsMemory(raw).Span;
        return result;
    }

    /// <summary>The values of a small INT64 tensor (shape constants).</summary>
    public long[] ToInt64s(string source)
    {
        RequireInline(source);
        if (DataType != OnnxDataType.Int64)
            throw new CorruptFileException(source, Offset, $"tensor '{Name}' is {DataType}, not INT64.");
        return RawData is { } raw
            ? MemoryMarshal.Cast<byte, long>(CheckedRaw(raw, sizeof(long), source).Span).ToArray()
            : CheckedCount(Int64Data, source).ToArray();
    }

    private void RequireInline(string source)
    {
        if (ElementCount < 0)
            throw new CorruptFileException(source, Offset,
                $"tensor '{Name}' has shape {ShapeMismatchException.Format(Dims)}: a negative dimension, or more elements than 64 bits can count.");
        if (IsExternal)
            throw new CorruptFileException(source, Offset,
                $"initializer '{Name}' keeps its data in an external file (ONNX external data, used for models over 2 GB); " +
                "only self-contained ONNX files are imported. Re-export with the weights inside the model file.");
    }

    private ReadOnlyMemory<byte> CheckedRaw(ReadOnlyMemory<byte> raw, int elementSize, string source)
    {
        if (ElementCount > int.MaxValue || raw.Length != ElementCount * elementSize)
            throw new CorruptFileException(source, Offset,
                $"initializer '{Name}' of shape {ShapeMismatchException.Format(Dims)} needs {ElementCount * elementSize} bytes but raw_data holds {raw.Length}.");
        return raw;
    }

    private IReadOnlyList<T> CheckedCount<T>(IReadOnlyList<T> values, string source)
    {
        if (values.Count != ElementCount)
            throw new CorruptFileException(source, Offset,
                $"initializer '{Name}' of shape {ShapeMismatchException.Format(Dims)} needs {ElementCount} values but holds {values.Count}.");
        return values;
    }
}

/// <summary>The <c>TensorProto.DataType</c> codes this reader names.</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    Uint8 = 2,
    Int8 = 3,
    Uint16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    Uint32 = 12,
    Uint64 = 13,
    BFloat16 = 16,
}
