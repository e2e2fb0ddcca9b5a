using System.Text;
using System.Text.Json;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Formats.Safetensors;

/// <summary>
/// Reads and writes Hugging Face safetensors files (8-byte little-endian header length, JSON header, raw data).
/// Unlike TorchSharp's PyBridge loader, every offset, size and dtype is validated, and a corrupt file is reported
/// with its path and the byte offset of the problem.
/// </summary>
public static class SafetensorsFile
{
    // A header bigger than this is certainly corrupt (the reference implementation uses the same bound).
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Parses and validates the header of <paramref name="path"/> without reading tensor data.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The header is truncated, not JSON, or describes impossible tensors.</exception>
    internal static SafetensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = LRCMT.IO.InputFile.OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Loads every tensor of <paramref name="path"/> onto the CPU, keyed by name.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is truncated or inconsistent.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var header = ReadHeader(path);
        using var stream = LRCMT.IO.InputFile.OpenRead(path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in header.Entries.Values) result[entry.Name] = ReadEntry(stream, header, entry);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>
    /// Reads one tensor of a file whose header was read with <see cref="ReadHeader(string)"/> from <paramref name="stream"/>
    /// (the same file, open for reading), so a loader can take a file tensor by tensor instead of all at once.
    /// </summary>
    internal static Tensor ReadEntry(Stream stream, SafetensorsHeader header, SafetensorsEntry entry)
    {
        var tensor = empty(entry.Shape, entry.DType);
        try
        {
            ReadElements(stream, header, entry, 0, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads elements <paramref name="firstElement"/> … of <paramref name="entry"/> (counted in the flattened tensor)
    /// into <paramref name="destination"/>, as many as it holds: a contiguous CPU tensor of the entry's dtype.
    /// </summary>
    /// <remarks>
    /// The bytes go from the file straight into the tensor's own (native) memory: a managed buffer per tensor would put
    /// the whole checkpoint through .NET's large-object heap, which keeps that memory long after the load.
    /// </remarks>
    /// <exception cref="ArgumentException">The destination has another dtype, is not contiguous, or reaches past the entry.</exception>
    internal static void ReadElements(Stream stream, SafetensorsHeader header, SafetensorsEntry entry, long firstElement, Tensor destination)
    {
        if (destination.dtype != entry.DType || !destination.is_contiguous() || destination.device_type != DeviceType.CPU)
            throw new ArgumentException($"'{entry.Name}' is read into a contiguous CPU tensor of its dtype {entry.DType}, not {destination.dtype}.", nameof(destination));
        long begin = entry.Begin + firstElement * destination.ElementSize, length = destination.numel() * destination.ElementSize;
        if (firstElement < 0 || begin + length > entry.End)
            throw new ArgumentException($"elements from {firstElement} ({destination.numel()} of them) reach past '{entry.Name}'.", nameof(firstElement));
        if (length == 0) return;
        stream.Position = header.DataStart + begin;
        stream.ReadExactly(destination.bytes);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>. The file is written beside the target and then
    /// renamed over it, so an existing file is replaced whole or not at all.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or repeated.</exception>
    /// <exception cref="OutputFileException">The file cannot be written (disk full, file too large, read-only, permission); the old file is kept.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var items = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in items)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("Tensor names must not be empty.", nameof(tensors));
            if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
        }

        var blobs = items.Select(kv => kv.Value.detach().cpu().contiguous()).ToList();
        try
        {
            var headerBytes = BuildHeader(items.Select(kv => kv.Key).ToList(), blobs, metadata);
            IO.OutputFile.Write(path, () =>
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
                Directory.CreateDirectory(directory);
                var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
                try
                {
                    using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                    {
                        stream.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
                        stream.Write(headerBytes);
                        foreach (var blob in blobs) stream.Write(blob.bytes);
                        stream.Flush(flushToDisk: true);
                    }
                    File.Move(temp, path, overwrite: true);
                }
                finally
                {
                    if (File.Exists(temp)) File.Delete(temp);
                }
            });
        }
        finally
        {
            foreach (var blob in blobs) blob.Dispose();
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<string> names, IReadOnlyList<Tensor> blobs, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            for (var i = 0; i < names.Count; i++)
            {
                var size = blobs[i].NumberOfElements * blobs[i].ElementSize;
                json.WriteStartObject(names[i]);
                json.WriteString("dtype", SafetensorsDType.NameOf(blobs[i].dtype));
                json.WriteStartArray("shape");
                foreach (var d in blobs[i].shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += size;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        var length = (int)buffer.Length;
        var padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        for (var i = length; i < padded; i++) header[i] = (byte)' ';
        return header;
    }

    private static SafetensorsHeader ReadHeader(Stream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8) throw new CorruptFileException(path, 0, $"file is {fileLength} bytes, too short for a safetensors header length.");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > fileLength - 8)
            throw new CorruptFileException(path, 0, $"header length {headerLength} exceeds the file ({fileLength} bytes): truncated or not a safetensors file.");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' ', '\0'));
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, 8, "header is not valid JSON.", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CorruptFileException(path, 8, "header is not a JSON object.");
            // A lone-surrogate escape in a name would otherwise be an untyped InvalidOperationException where it is read.
            TextEncoders.Tokenization.JsonFields.RequireUnicode(document.RootElement, path, "header");
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                if (property.Value.ValueKind != JsonValueKind.Object)
                    throw new CorruptFileException(path, 8, $"tensor '{property.Name}' is described by a JSON {property.Value.ValueKind}, not an object.");
                if (entries.ContainsKey(property.Name))
                    throw new CorruptFileException(path, 8, $"tensor '{property.Name}' is described twice.");
                entries[property.Name] = ParseEntry(path, property, dataStart, dataLength);
            }
            CheckNoOverlap(path, dataStart, entries.Values);
            return new SafetensorsHeader(path, dataStart, entries, metadata);
        }
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property, long dataStart, long dataLength)
    {
        var name = property.Name;
        var value = property.Value;
        try
        {
            var dtypeName = value.GetProperty("dtype").GetString() ?? "";
            if (!SafetensorsDType.TryParse(dtypeName, out var dtype, out var elementSize))
                throw new CorruptFileException(path, 8, $"tensor '{name}' has unsupported dtype '{dtypeName}' (supported: {string.Join(", ", SafetensorsDType.Names)}).");
            var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (shape.Any(d => d < 0)) throw new CorruptFileException(path, 8, $"tensor '{name}' has a negative dimension in shape {ShapeMismatchException.Format(shape)}.");
            var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            if (offsets.Length != 2) throw new CorruptFileException(path, 8, $"tensor '{name}' needs two data_offsets, found {offsets.Length}.");
            var (begin, end) = (offsets[0], offsets[1]);
            long expected;
            try { expected = checked(shape.Aggregate(1L, (a, d) => a * d) * elementSize); }
            catch (OverflowException) { throw new CorruptFileException(path, 8, $"tensor '{name}' of shape {ShapeMismatchException.Format(shape)} has more bytes than 64 bits can count."); }
            if (begin < 0 || end < begin)
                throw new CorruptFileException(path, 8, $"tensor '{name}' has invalid data_offsets [{begin}, {end}].");
            if (end - begin != expected)
                throw new CorruptFileException(path, 8, $"tensor '{name}' of shape {ShapeMismatchException.Format(shape)} and dtype {dtypeName} needs {expected} bytes but data_offsets span {end - begin}.");
            if (end > dataLength)
                throw new CorruptFileException(path, dataStart + end, $"tensor '{name}' ends at data byte {end} but the data section holds only {dataLength} bytes (file truncated?).");
            if (end - begin > Array.MaxLength)
                throw new CorruptFileException(path, dataStart + begin, $"tensor '{name}' holds {end - begin} bytes; tensors over {Array.MaxLength} bytes are not supported.");
            return new SafetensorsEntry(name, dtype, shape, begin, end);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new CorruptFileException(path, 8, $"tensor '{name}' has a malformed header entry (needs dtype, shape, data_offsets).", e);
        }
    }

    private static void CheckNoOverlap(string path, long dataStart, IEnumerable<SafetensorsEntry> entries)
    {
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin))
        {
            if (previous is not null && entry.Begin < previous.End)
                throw new CorruptFileException(path, dataStart + entry.Begin, $"tensors '{previous.Name}' and '{entry.Name}' overlap.");
            previous = entry;
        }
    }
}
