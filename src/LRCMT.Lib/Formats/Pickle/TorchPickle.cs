using System.Collections;
using Razorvine.Pickle;
using static TorchSharp.torch;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// The part of torch's checkpoint pickle this library understands: an (ordered) dict of tensors rebuilt by
/// <c>torch._utils._rebuild_tensor_v2</c> from storages named by persistent ids. Only these globals pass the guard;
/// their constructors build plain descriptions (<see cref="TorchTensorRef"/>), never call anything else, and the
/// tensor bytes are read afterwards from the archive with every size checked.
/// </summary>
internal static class TorchPickle
{
    /// <summary>Storage class names and their element types.</summary>
    public static readonly IReadOnlyDictionary<string, (ScalarType Type, int Size)> StorageTypes = new Dictionary<string, (ScalarType, int)>(StringComparer.Ordinal)
    {
        ["FloatStorage"] = (ScalarType.Float32, 4), ["DoubleStorage"] = (ScalarType.Float64, 8),
        ["HalfStorage"] = (ScalarType.Float16, 2), ["BFloat16Storage"] = (ScalarType.BFloat16, 2),
        ["LongStorage"] = (ScalarType.Int64, 8), ["IntStorage"] = (ScalarType.Int32, 4),
        ["ShortStorage"] = (ScalarType.Int16, 2), ["CharStorage"] = (ScalarType.Int8, 1),
        ["ByteStorage"] = (ScalarType.Byte, 1), ["BoolStorage"] = (ScalarType.Bool, 1),
    };

    /// <summary>The globals a tensor state dict needs, and nothing else.</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(
        StorageTypes.Keys.Select(k => "torch." + k).Concat(
        [
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", "collections.OrderedDict",
        ]), StringComparer.Ordinal);

    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Checks one pickle (refusing unsafe globals before anything is built) and unpickles it.</summary>
    /// <exception cref="Errors.UnsafePickleException">The pickle imports a global a state dict does not need.</exception>
    /// <exception cref="Errors.CorruptFileException">The pickle is malformed.</exception>
    public static object? Load(byte[] pickle, string source)
    {
        PickleGlobalGuard.Check(new MemoryStream(pickle, writable: false), source, allowed: AllowedGlobals, allowPersistentIds: true);
        EnsureRegistered();
        try
        {
            using var unpickler = new StorageUnpickler();
            return unpickler.load(new MemoryStream(pickle, writable: false));
        }
        catch (Exception e) when (e is PickleException or NotSupportedException or InvalidCastException or InvalidDataException
                                      or IOException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            throw new Errors.CorruptFileException(source, null, $"cannot rebuild the pickled state dict: {e.Message}", e);
        }
    }

    /// <summary>Length in bytes of the pickle at the start of <paramref name="data"/> (checked on the way).</summary>
    public static int LengthOf(ReadOnlyMemory<byte> data, string source)
    {
        var stream = new MemoryStream(data.ToArray(), writable: false);
        PickleGlobalGuard.Check(stream, source, allowed: AllowedGlobals, allowPersistentIds: true);
        return (int)stream.Position;
    }

    private static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered) return;
            Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensor());
            Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameter());
            Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
            foreach (var (name, type) in StorageTypes)
                Unpickler.registerConstructor("torch", name, new StorageTypeConstructor(name, type.Type, type.Size));
            _registered = true;
        }
    }

    /// <summary>Resolves torch's persistent ids ('storage', type, key, location, numel[, view]) to descriptions.</summary>
    private sealed class StorageUnpickler : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            // GLOBAL pushes the registered constructor itself; it stands for the storage class.
            if (pid is not object[] { Length: >= 5 } tuple || tuple[0] is not "storage" || tuple[1] is not StorageTypeConstructor { Type: var type }
                || tuple[2] is not string key)
                throw new NotSupportedException("a persistent id is not torch's ('storage', type, key, location, numel) tuple");
            long numel = Convert.ToInt64(tuple[4], System.Globalization.CultureInfo.InvariantCulture);
            if (numel < 0) throw new NotSupportedException($"storage '{key}' has a negative size {numel}");
            if (tuple.Length > 5 && tuple[5] is not null) throw new NotSupportedException($"storage '{key}' is a view of another storage (legacy view metadata is not supported)");
            return new TorchStorageRef(key, type, numel);
        }
    }

    /// <summary>The class object <c>torch.FloatStorage</c> and friends: only a dtype.</summary>
    private sealed class StorageTypeConstructor(string name, ScalarType type, int size) : IObjectConstructor
    {
        public TorchStorageType Type { get; } = new(name, type, size);

        public object construct(object[] args) => args.Length == 0 ? Type
            : throw new NotSupportedException($"torch.{name}(...) is called with arguments; only its use as a storage type is supported");
    }

    /// <summary><c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])</c>.</summary>
    private sealed class RebuildTensor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not TorchStorageRef storage || args[2] is not object[] size || args[3] is not object[] stride)
                throw new NotSupportedException("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, …)");
            return new TorchTensorRef(storage, Convert.ToInt64(args[1], System.Globalization.CultureInfo.InvariantCulture),
                size.Select(d => Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
                stride.Select(d => Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, hooks)</c>: the tensor itself.</summary>
    private sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is TorchTensorRef tensor ? tensor
            : throw new NotSupportedException("_rebuild_parameter does not wrap a tensor");
    }

    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0 ? new TorchOrderedDict()
            : throw new NotSupportedException("OrderedDict(...) with arguments is not supported");
    }
}

/// <summary>A storage class (<c>torch.FloatStorage</c>…): element type and size.</summary>
internal sealed record TorchStorageType(string Name, ScalarType Type, int ElementSize);

/// <summary>A storage named by a persistent id: its archive key, type and element count.</summary>
internal sealed record TorchStorageRef(string Key, TorchStorageType Type, long Numel);

/// <summary>A tensor as a view of a storage: offset, shape and strides in elements.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Shape, long[] Stride);

/// <summary>
/// An <c>OrderedDict</c> as Razorvine builds it; keeps insertion order of keys and accepts (and drops) the
/// <c>_metadata</c> attribute a state dict carries.
/// </summary>
internal sealed class TorchOrderedDict : Hashtable
{
    public List<object> Order { get; } = [];

    public override void Add(object key, object? value)
    {
        if (!ContainsKey(key)) Order.Add(key);
        base.Add(key, value);
    }

    public override object? this[object key]
    {
        get => base[key];
        set
        {
            if (!ContainsKey(key)) Order.Add(key);
            base[key] = value;
        }
    }

    // BUILD with the instance dict ({'_metadata': …}); state-dict version metadata is not needed.
    public void __setstate__(Hashtable state) { }
}
