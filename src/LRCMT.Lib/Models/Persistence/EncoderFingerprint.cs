using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LRCMT.TextEncoders;
using static TorchSharp.torch;

namespace LRCMT.Models.Persistence;

/// <summary>
/// The SHA-256 of a text encoder's weights, recorded when a model is saved so it can refuse a different base encoder
/// on load: over the untuned encoder's state dict, for every entry in ordinal key order, the UTF-8 key, a 0 byte, the
/// dtype name, a 0 byte, each dimension as a little-endian int64, then the raw little-endian element bytes; lower-case hex.
/// </summary>
internal static class EncoderFingerprint
{
    public static string Compute(TextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> dimension = stackalloc byte[sizeof(long)];
        foreach (var (key, value) in encoder.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(key));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(value.dtype.ToString()));
            hash.AppendData([0]);
            foreach (var size in value.shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(dimension, size);
                hash.AppendData(dimension);
            }
            using var scope = NewDisposeScope();
            var contiguous = value.detach().cpu().contiguous();
            hash.AppendData(contiguous.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
