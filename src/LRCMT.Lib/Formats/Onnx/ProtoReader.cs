using System.Buffers.Binary;
using System.Text;
using LRCMT.Errors;

namespace LRCMT.Formats.Onnx;

/// <summary>Protocol-buffer wire types (the low three bits of a field tag).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}

/// <summary>
/// Reads one protocol-buffer message out of a byte array, field by field, without generated classes. Nested messages
/// are sub-readers over the same array, so large tensors are never copied while parsing, and every error carries the
/// absolute byte offset where the file stops making sense.
/// </summary>
internal sealed class ProtoReader
{
    private readonly byte[] data;
    private readonly int end;
    private int position;

    public ProtoReader(byte[] data, string source) : this(data, source, 0, data.Length) { }

    private ProtoReader(byte[] data, string source, int start, int end)
    {
        this.data = data;
        Source = source;
        position = start;
        this.end = end;
    }

    /// <summary>The file (or stream name) being read, for error messages.</summary>
    public string Source { get; }

    /// <summary>Absolute offset of the next byte to read.</summary>
    public int Position => position;

    /// <summary>Reads the next field's tag; false at the end of this message.</summary>
    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (position >= end)
        {
            (field, wireType) = (0, default);
            return false;
        }

        var tagStart = position;
        var tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (WireType)(tag & 7);
        if (field == 0 || !Enum.IsDefined(wireType))
            throw new CorruptFileException(Source, tagStart, $"invalid protobuf tag {tag}; the file is not ONNX or is damaged.");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= end) throw Truncated("a varint");
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }

        throw new CorruptFileException(Source, position, "a varint is longer than 10 bytes.");
    }

    public long ReadInt64() => (long)ReadVarint();

    public float ReadFloat()
    {
        Require(4, "a 32-bit float");
        var value = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(position, 4));
        position += 4;
        return value;
    }

    /// <summary>The payload of a length-delimited field, as absolute offset and length.</summary>
    public (int Start, int Length) ReadLengthDelimited()
    {
        var lengthAt = position;
        var length = ReadVarint();
        if (length > (ulong)(end - position))
            throw new CorruptFileException(Source, lengthAt, $"a field claims {length} bytes but only {end - position} remain; the file is truncated.");
        var start = position;
        position += (int)length;
        return (start, (int)length);
    }

    public ProtoReader ReadMessage()
    {
        var (start, length) = ReadLengthDelimited();
        return new ProtoReader(data, Source, start, start + length);
    }

    public string ReadString()
    {
        var (start, length) = ReadLengthDelimited();
        return Encoding.UTF8.GetString(data, start, length);
    }

    public ReadOnlyMemory<byte> ReadBytes()
    {
        var (start, length) = ReadLengthDelimited();
        return data.AsMemory(start, length);
    }

    /// <summary>Appends a repeated int64 field, packed or not.</summary>
    public void ReadInt64s(WireType wireType, List<long> into)
    {
        if (wireType != WireType.LengthDelimited)
        {
            into.Add(ReadInt64());
            return;
        }

        var packed = ReadMessage();
        while (packed.position < packed.end) into.Add(packed.ReadInt64());
    }

    /// <summary>Appends a repeated float field, packed or not.</summary>
    public void ReadFloats(WireType wireType, List<float> into)
    {
        if (wireType != WireType.LengthDelimited)
        {
            into.Add(ReadFloat());
            return;
        }

        var packed = ReadMessage();
        while (packed.position < packed.end) into.Add(packed.ReadFloat());
    }

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Require(8, "a 64-bit field"); position += 8; break;
            case WireType.Fixed32: Require(4, "a 32-bit field"); position += 4; break;
            case WireType.LengthDelimited: ReadLengthDelimited(); break;
        }
    }

    private void Require(int bytes, string what)
    {
        if (end - position < bytes) throw Truncated(what);
    }

    private CorruptFileException Truncated(string what) =>
        new(Source, position, $"the file ends inside {what}; it is truncated.");
}
