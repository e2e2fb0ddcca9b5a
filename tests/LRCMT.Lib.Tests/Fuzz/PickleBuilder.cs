using System.Buffers.Binary;
using System.Text;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Writes pickle opcodes by hand (protocol 2–4 forms, as CPython's pickler emits them), so tests can build exactly the
/// data, hostile structure or lie they need without Python or checked-in files.
/// </summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _bytes = new();

    public PickleBuilder Proto(int version = 4) => Op(0x80).Byte(version);

    public PickleBuilder Op(byte opcode) { _bytes.WriteByte(opcode); return this; }

    public PickleBuilder Op(char opcode) => Op((byte)opcode);

    public PickleBuilder Byte(int value) { _bytes.WriteByte((byte)value); return this; }

    public PickleBuilder Raw(ReadOnlySpan<byte> bytes) { _bytes.Write(bytes); return this; }

    public PickleBuilder Int64(long value) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, value); return Raw(b); }

    public PickleBuilder Int32(int value) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, value); return Raw(b); }

    public PickleBuilder Mark() => Op('(');
    public PickleBuilder EmptyDict() => Op('}');
    public PickleBuilder EmptyList() => Op(']');
    public PickleBuilder EmptyTuple() => Op(')');
    public PickleBuilder Append() => Op('a');
    public PickleBuilder Appends() => Op('e');
    public PickleBuilder SetItem() => Op('s');
    public PickleBuilder SetItems() => Op('u');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder Tuple1() => Op(0x85);
    public PickleBuilder Tuple2() => Op(0x86);
    public PickleBuilder Tuple3() => Op(0x87);
    public PickleBuilder Reduce() => Op('R');
    public PickleBuilder Build() => Op('b');
    public PickleBuilder Memoize() => Op(0x94);
    public PickleBuilder Get(int index) => index < 256 ? Op('h').Byte(index) : Op('j').Int32(index);
    public PickleBuilder Pop() => Op('0');
    public PickleBuilder None() => Op('N');
    public PickleBuilder Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);
    public PickleBuilder Stop() => Op('.');

    public PickleBuilder Int(long value) => value is >= 0 and < 256 ? Op('K').Byte((int)value)
        : value is >= int.MinValue and <= int.MaxValue ? Op('J').Int32((int)value)
        : Op(0x8a).Byte(8).Int64(value);

    public PickleBuilder Float(double value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        return Op('G').Raw(b);
    }

    public PickleBuilder Str(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return utf8.Length < 256 ? Op(0x8c).Byte(utf8.Length).Raw(utf8) : Op('X').Int32(utf8.Length).Raw(utf8);
    }

    public PickleBuilder Bytes(ReadOnlySpan<byte> value) =>
        value.Length < 256 ? Op('C').Byte(value.Length).Raw(value) : Op('B').Int32(value.Length).Raw(value);

    /// <summary>GLOBAL with a module and name, as protocol 2 writes it.</summary>
    public PickleBuilder Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>A numpy dtype object: <c>dtype(code, False, True)</c> plus its BUILD state.</summary>
    public PickleBuilder DType(string code, char byteOrder = '<', int elsize = -1) =>
        Global("numpy", "dtype").Str(code).Bool(false).Bool(true).Tuple3().Reduce()
            .Mark().Int(3).Str(byteOrder.ToString()).None().None().None().Int(elsize).Int(-1).Int(0).Tuple().Build();

    /// <summary>A numpy array as numpy 1 pickles it: <c>_reconstruct(ndarray, (0,), b'b')</c> then BUILD with (1, shape, dtype, False, data).</summary>
    public PickleBuilder Array(string dtype, long[] shape, ReadOnlySpan<byte> data, bool fortran = false)
    {
        Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Tuple1().Bytes("b"u8).Tuple3().Reduce();
        Mark().Int(1).Mark();
        foreach (var d in shape) Int(d);
        Tuple().DType(dtype).Bool(fortran).Bytes(data).Tuple().Build();
        return this;
    }

    public PickleBuilder Floats(float[] values, params long[] shape) =>
        Array("f4", shape.Length == 0 ? [values.Length] : shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));

    public PickleBuilder Strings(string[] values, int width)
    {
        var data = new byte[values.Length * width * 4];
        for (int i = 0; i < values.Length; i++)
            Encoding.UTF32.GetBytes(values[i]).CopyTo(data, i * width * 4);
        return Array($"U{width}", [values.Length], data);
    }

    public byte[] ToArray() => _bytes.ToArray();
}
