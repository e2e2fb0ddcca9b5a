using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// safetensors files whose header lies: the 8-byte header length (zero, past the file, past 2⁶³, past the 100 MB
/// header limit), a tensor's dtype (unknown, lower case, not a string), shape (negative, fractional, textual, products
/// past 64 bits, elements not matching the bytes), data offsets (reversed, overlapping, past the data, one number) or
/// entry (not an object, a name with a lone-surrogate escape), and metadata of the wrong type. The data behind the header is 64 real bytes.
/// </summary>
internal static class HostileSafetensorsGenerator
{
    private static readonly Func<Random, (string Field, JsonNode? Value)>[] EntryLies =
    [
        _ => ("dtype", "F33"), _ => ("dtype", "f32"), _ => ("dtype", null), _ => ("dtype", 5),
        _ => ("shape", new JsonArray(-1, 4)), _ => ("shape", new JsonArray(1L << 32, 1L << 32)), _ => ("shape", new JsonArray(long.MaxValue, 2)),
        _ => ("shape", new JsonArray(1.5)), _ => ("shape", new JsonArray("4")), _ => ("shape", null), _ => ("shape", new JsonArray(64)),
        _ => ("data_offsets", new JsonArray(16, 0)), _ => ("data_offsets", new JsonArray(0, 1L << 62)), _ => ("data_offsets", new JsonArray(0, 65)),
        _ => ("data_offsets", new JsonArray(0)), _ => ("data_offsets", new JsonArray("0", "16")), _ => ("data_offsets", new JsonArray(-16, 0)),
        random => ("data_offsets", new JsonArray(random.Next(8), 16 + random.Next(8))),
    ];

    internal static (byte[] Bytes, string How) Generate(Random random)
    {
        // Two float32 [2, 2] tensors over bytes 0..16 and 16..32, and 32 bytes no tensor uses.
        var header = new JsonObject
        {
            ["__metadata__"] = new JsonObject { ["format"] = "pt" },
            ["a"] = Entry(0), ["b"] = Entry(16),
        };
        string how;
        ulong? headerLength = null;
        bool loneSurrogate = false;
        switch (random.Next(6))
        {
            case 0:
            {
                var (field, value) = EntryLies[random.Next(EntryLies.Length)](random);
                string name = random.Next(2) == 0 ? "a" : "b";
                header[name]![field] = value;
                how = $"{name}.{field} = {value?.ToJsonString() ?? "null"}";
                break;
            }
            case 1:
                headerLength = new ulong[] { 0, 1, 2, 1UL << 63, ulong.MaxValue, 100_000_001, 1UL << 40 }[random.Next(7)];
                how = $"header length {headerLength}";
                break;
            case 2:
                header["b"] = random.Next(2) == 0 ? "not an entry" : new JsonArray(1, 2);
                how = "an entry that is not an object";
                break;
            case 3:
                header["__metadata__"] = random.Next(2) == 0 ? new JsonObject { ["format"] = 5 } : new JsonArray();
                how = "metadata of the wrong type";
                break;
            case 4:
                loneSurrogate = true;
                how = "a lone-surrogate escape in a tensor's name";
                break;
            default:
                // Overlapping tensors (b starts inside a).
                header["b"] = Entry(8);
                how = "overlapping tensors";
                break;
        }

        string text = header.ToJsonString();
        if (loneSurrogate) text = text.Replace("\"b\":", "\"b\\udc00\":", StringComparison.Ordinal);
        var json = Encoding.UTF8.GetBytes(text);
        var bytes = new byte[8 + json.Length + 64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        random.NextBytes(bytes.AsSpan(8 + json.Length));
        return (bytes, how);
    }

    private static JsonObject Entry(int offset) => new()
    {
        ["dtype"] = "F32", ["shape"] = new JsonArray(2, 2), ["data_offsets"] = new JsonArray(offset, offset + 16),
    };
}
