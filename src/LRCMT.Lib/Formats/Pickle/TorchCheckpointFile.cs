using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Numerics;
using LRCMT.Errors;
using static TorchSharp.torch;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// Reads PyTorch checkpoints written by <c>torch.save(state_dict)</c> (e.g. <c>pytorch_model.bin</c>): the zip format
/// (<c>&lt;name&gt;/data.pkl</c> plus one <c>&lt;name&gt;/data/&lt;key&gt;</c> entry per storage) and the legacy format
/// (a row of pickles followed by the raw storages). The pickle goes through an allow-list: only
/// <c>torch._utils._rebuild_tensor_v2</c>/<c>_rebuild_parameter</c>, the storage types and
/// <c>collections.OrderedDict</c> may appear, and anything else is refused before a single object is built. Every
/// storage size, offset, shape and stride is checked against the bytes actually present.
/// </summary>
public static class TorchCheckpointFile
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads every tensor of a torch state-dict checkpoint, by name (on the CPU; the caller owns them).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="UnsafePickleException">The pickle imports anything a tensor state dict does not need.</exception>
    /// <exception cref="CorruptFileException">The file is truncated, malformed or not a flat dict of tensors; names the file and entry.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Span<byte> head = stackalloc byte[4];
        using (var probe = LRCMT.IO.InputFile.OpenRead(path))
            if (probe.Read(head) < 4) throw new CorruptFileException(path, 0, "the file is too short to be a torch checkpoint.");
        return head.SequenceEqual("PK\x03\x04"u8) ? LoadZip(path) : LoadLegacy(path);
    }

    private static Dictionary<string, Tensor> LoadZip(string path)
    {
        try
        {
            using var archive = new ZipArchive(LRCMT.IO.InputFile.OpenRead(path), ZipArchiveMode.Read);
            var pickles = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl").ToList();
            if (pickles.Count != 1)
                throw new CorruptFileException(path, null, $"a torch zip checkpoint has exactly one data.pkl entry; this archive has {pickles.Count}.");
            var prefix = pickles[0].FullName[..^"data.pkl".Length];
            var byteOrder = archive.GetEntry(prefix + "byteorder");
            if (byteOrder is not null && ReadEntry(byteOrder, path, 16) is var order && System.Text.Encoding.ASCII.GetString(order) != "little")
                throw new CorruptFileException(path, null, $"entry '{byteOrder.FullName}' says the storages are big-endian; only little-endian is supported.");

            // The entry's size is what the archive claims: a small file can deflate to gigabytes, so it is bounded before it is read.
            long pickleLimit = LRCMT.IO.InputFile.Limit(LRCMT.IO.InputKind.TorchPickle, path);
            if (pickles[0].Length > pickleLimit)
                throw new CorruptFileException(path, null,
                    $"entry '{pickles[0].FullName}' claims {pickles[0].Length:N0} bytes; a checkpoint's tensor list may hold at most {pickleLimit:N0} " +
                    $"(raise the limit with the environment variable {LRCMT.IO.InputFile.LimitVariable(LRCMT.IO.InputKind.TorchPickle)}).");
            var tensors = Tensors(TorchPickle.Load(ReadEntry(pickles[0], path, pickleLimit), $"{path}!{pickles[0].FullName}"), path);
            var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var storage in tensors.Values.Select(t => t.Storage).DistinctBy(s => s.Key))
            {
                var name = prefix + "data/" + storage.Key;
                var entry = archive.GetEntry(name) ?? throw new CorruptFileException(path, null, $"entry '{name}' (storage {storage.Key}) is missing.");
                long needed = Needed(storage, path, name);
                if (entry.Length != needed)
                    throw new CorruptFileException(path, null, $"entry '{name}' holds {entry.Length} bytes but storage {storage.Key} ({storage.Numel} x {storage.Type.Name}) needs {needed} (truncated or corrupt).");
                storages[storage.Key] = ReadEntry(entry, path, needed);
            }
            return Materialise(tensors, storages, path);
        }
        catch (InvalidDataException e)
        {
            throw new CorruptFileException(path, null, $"not a readable zip archive: {e.Message}", e);
        }
    }

    private static Dictionary<string, Tensor> LoadLegacy(string path)
    {
        byte[] data;
        using (var stream = LRCMT.IO.InputFile.OpenRead(path))
        {
            var length = stream.Length;
            if (length > Array.MaxLength) throw new CorruptFileException(path, null, $"a legacy (non-zip) torch checkpoint of {length} bytes is too large to read; re-save it with torch.save's default zip format.");
            data = new byte[length];
            try
            {
                stream.ReadExactly(data);
            }
            catch (EndOfStreamException e)
            {
                throw new CorruptFileException(path, stream.Position, "the file became shorter while it was read.", e);
            }
        }
        int at = 0;
        object? Next(string what)
        {
            var source = $"{path} ({what} pickle at byte {at})";
            int size = TorchPickle.LengthOf(data.AsMemory(at), source);
            var value = TorchPickle.Load(data[at..(at + size)], source);
            at += size;
            return value;
        }

        if (Next("magic number") is not BigInteger magic || magic != LegacyMagic)
            throw new CorruptFileException(path, 0, "neither a zip archive nor a legacy torch checkpoint (wrong magic number).");
        _ = Next("protocol version");
        if (Next("system info") is IDictionary info && info["little_endian"] is false)
            throw new CorruptFileException(path, null, "the checkpoint was written big-endian; only little-endian is supported.");
        var tensors = Tensors(Next("state dict"), path);
        if (Next("storage keys") is not ArrayList keys) throw new CorruptFileException(path, at, "the storage key list is missing.");

        var byKey = tensors.Values.Select(t => t.Storage).DistinctBy(s => s.Key).ToDictionary(s => s.Key);
        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var key in keys.Cast<object>().Select(k => k as string ?? throw new CorruptFileException(path, at, "a storage key is not a string.")))
        {
            if (at + 8 > data.Length) throw new CorruptFileException(path, at, $"storage '{key}' is missing: the file ends (truncated).");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(at, 8));
            at += 8;
            if (!byKey.TryGetValue(key, out var storage)) throw new CorruptFileException(path, at, $"storage '{key}' is not used by any tensor.");
            if (numel != storage.Numel) throw new CorruptFileException(path, at - 8, $"storage '{key}' says {numel} elements but the pickle says {storage.Numel}.");
            long needed = Needed(storage, path, $"storage '{key}'");
            if (at + needed > data.Length)
                throw new CorruptFileException(path, at, $"storage '{key}' needs {needed} bytes but only {data.Length - at} remain (truncated).");
            storages[key] = data[at..(int)(at + needed)];
            at += (int)needed;
        }
        var absent = byKey.Keys.Where(k => !storages.ContainsKey(k)).ToList();
        if (absent.Count > 0) throw new CorruptFileException(path, at, $"storages {string.Join(", ", absent)} are used but not stored.");
        return Materialise(tensors, storages, path);
    }

    /// <summary>The pickled object as name → tensor description; anything else is refused.</summary>
    private static List<(string Name, TorchTensorRef Tensor)> TensorList(object? root, string path)
    {
        if (root is not IDictionary dict) throw new CorruptFileException(path, null, $"the pickle holds a {root?.GetType().Name ?? "None"}, not a state dict.");
        IEnumerable keys = root is TorchOrderedDict ordered ? ordered.Order : dict.Keys;
        var list = new List<(string, TorchTensorRef)>();
        foreach (var key in keys)
        {
            if (key is not string name) throw new CorruptFileException(path, null, $"a state-dict key is a {key?.GetType().Name}, not a string.");
            if (dict[key] is not TorchTensorRef tensor)
                throw new CorruptFileException(path, null, $"'{name}' is a {dict[key]?.GetType().Name ?? "None"}, not a tensor; only flat dicts of tensors are read.");
            list.Add((name, tensor));
        }
        return list;
    }

    private static Dictionary<string, TorchTensorRef> Tensors(object? root, string path)
        => TensorList(root, path).ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);

    private static long Needed(TorchStorageRef storage, string path, string where)
        => storage.Numel <= long.MaxValue / storage.Type.ElementSize
            ? storage.Numel * storage.Type.ElementSize
            : throw new CorruptFileException(path, null, $"{where}: {storage.Numel} elements overflow a byte count.");

    private static Dictionary<string, Tensor> Materialise(Dictionary<string, TorchTensorRef> tensors, Dictionary<string, byte[]> storages, string path)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                CheckView(name, tensor, path);
                using var scope = NewDisposeScope();
                var flat = empty(tensor.Storage.Numel, tensor.Storage.Type.Type);
                if (tensor.Storage.Numel > 0) flat.bytes = storages[tensor.Storage.Key];
                result[name] = flat.as_strided(tensor.Shape, tensor.Stride, tensor.Offset).contiguous().clone().MoveToOuterDisposeScope();
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Offset, shape and strides must stay inside the storage.</summary>
    private static void CheckView(string name, TorchTensorRef tensor, string path)
    {
        if (tensor.Shape.Length != tensor.Stride.Length)
            throw new CorruptFileException(path, null, $"tensor '{name}' has {tensor.Shape.Length} dimensions but {tensor.Stride.Length} strides.");
        if (tensor.Offset < 0 || tensor.Shape.Any(d => d < 0) || tensor.Stride.Any(s => s < 0))
            throw new CorruptFileException(path, null, $"tensor '{name}' has a negative offset, size or stride.");
        if (tensor.Shape.Contains(0)) return;
        BigInteger last = tensor.Offset;
        for (int i = 0; i < tensor.Shape.Length; i++) last += (BigInteger)(tensor.Shape[i] - 1) * tensor.Stride[i];
        if (last >= tensor.Storage.Numel)
            throw new CorruptFileException(path, null,
                $"tensor '{name}' (offset {tensor.Offset}, shape {ShapeMismatchException.Format(tensor.Shape)}) reaches element {last} of storage {tensor.Storage.Key}, which holds {tensor.Storage.Numel}.");
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string path, long limit)
    {
        if (entry.Length > limit) throw new CorruptFileException(path, null, $"entry '{entry.FullName}' is {entry.Length} bytes, more than the {limit} expected.");
        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException e)
        {
            throw new CorruptFileException(path, null, $"entry '{entry.FullName}' ends early (truncated).", e);
        }
        return bytes;
    }
}
