using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// Fills an encoder built on the <c>meta</c> device (shapes only, no memory) from a checkpoint, putting each weight in
/// place in its final <see cref="BaseDType"/> as it is read: a bf16 base never exists in float32 as a whole, an int8
/// base's projections are quantized one by one (<see cref="QuantizedLinear"/>). Names, shapes and dtypes are checked
/// against the checkpoint's table of contents before any tensor is read; the caller disposes the model if this throws.
/// </summary>
/// <remarks>
/// Memory: each weight is allocated once, in its final dtype, and the checkpoint's bytes go straight into it. A weight
/// whose stored dtype differs (a float32 checkpoint loaded as bf16, or quantized to int8) passes through one small
/// staging block at a time instead of a float32 copy of the whole tensor, so the load allocates little besides the
/// model itself and leaves no holes in the native heap for the training that follows to grow around.
/// </remarks>
internal static class BaseLoading
{
    /// <summary>Where the weights come from: each tensor's shape and dtype up front, and a reader of element ranges.</summary>
    /// <param name="Entries">Shape and stored dtype by model key.</param>
    /// <param name="ReadElements">Reads the tensor of a model key from a flat element index into a contiguous CPU tensor of
    /// the stored dtype, as many elements as that tensor holds.</param>
    /// <param name="Name">The file or source named in error messages.</param>
    public sealed record Source(IReadOnlyDictionary<string, (long[] Shape, ScalarType DType)> Entries, Action<string, long, Tensor> ReadElements, string Name)
    {
        /// <summary>A source over tensors already in memory (they stay the caller's).</summary>
        public static Source Of(IReadOnlyDictionary<string, Tensor> tensors, string name)
            => new(tensors.ToDictionary(t => t.Key, t => (t.Value.shape, t.Value.dtype)), (key, first, destination) =>
            {
                using var scope = NewDisposeScope();
                destination.copy_(tensors[key].reshape(-1).narrow(0, first, destination.numel()).view_as(destination));
            }, name);
    }

    /// <summary>The meta device models are built on before <see cref="Fill"/>.</summary>
    public static Device Meta => META;

    /// <summary>
    /// An <c>nn.Embedding</c> of <paramref name="count"/> × <paramref name="dimension"/> on <paramref name="device"/>. On the
    /// meta device it holds no table in memory: TorchSharp's embedding is a native module that initialises its table on
    /// the CPU and keeps it registered for the module's lifetime — moving the module treats meta as the CPU, and setting
    /// <c>weight</c> replaces only the module's member. So on meta the native module gets the fewest rows its padding
    /// index allows (that leftover is all it keeps) and the meta table is set as its weight, which forward uses.
    /// </summary>
    public static Embedding NewEmbedding(long count, long dimension, long? paddingIdx, Device? device)
    {
        if (device is null || device.type != META.type)
            return nn.Embedding(count, dimension, padding_idx: paddingIdx, device: device);
        var embedding = nn.Embedding(paddingIdx is long padding ? padding + 1 : 1, dimension, padding_idx: paddingIdx);
        embedding.weight = new Parameter(empty(count, dimension, device: device));
        return embedding;
    }

    /// <summary>Elements per staging block: 4 MB of float32, small next to any model and large enough for fast reads.</summary>
    public const long DefaultBlockElements = 1L << 20;

    /// <param name="model">The model built on <see cref="Meta"/>.</param>
    /// <param name="source">The weights.</param>
    /// <param name="dtype">The dtype the base is held in.</param>
    /// <param name="blockElements">Staging block size (tests use tiny blocks to check that block-wise reading changes nothing).</param>
    /// <exception cref="CheckpointMismatchException">A key is missing or unexpected, or a shape or dtype differs.</exception>
    public static void Fill(nn.Module model, Source source, BaseDType dtype, long blockElements = DefaultBlockElements)
    {
        Check(model, source);
        var floating = dtype.ComputeType();
        bool trainable = dtype == BaseDType.Float32; // a half or int8 base is frozen from the start
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        modules[""] = model;
        using var _ = no_grad();
        using var reader = new Reader(source, blockElements);
        foreach (var (path, module) in modules.ToList())
        {
            string Key(string name) => path.Length == 0 ? name : $"{path}.{name}";
            Parameter Load(string name) => new(reader.Read(Key(name), floating), trainable);

            switch (module)
            {
                case Linear linear when dtype == BaseDType.Int8:
                    var quantized = reader.ReadQuantized(Key("weight"), linear.bias is null ? null : Key("bias"), floating);
                    var dot = path.LastIndexOf('.');
                    ModuleReplacer.Replace(modules[dot < 0 ? "" : path[..dot]], path[(dot + 1)..], linear, quantized, path);
                    linear.Dispose();
                    break;
                case Linear linear:
                    linear.weight = Load("weight");
                    if (linear.bias is not null) linear.bias = Load("bias");
                    break;
                case Embedding embedding:
                    embedding.weight = Load("weight");
                    break;
                case LayerNorm norm:
                    norm.weight = Load("weight");
                    if (norm.bias is not null) norm.bias = Load("bias");
                    break;
                default:
                    if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
                        throw new InvalidOperationException($"{module.GetType().Name} at '{path}' holds tensors this loader cannot place.");
                    break;
            }
        }
    }

    /// <summary>Reads tensors into their final dtype through a reused staging block (see the class remarks).</summary>
    private sealed class Reader(Source source, long blockElements) : IDisposable
    {
        private readonly Dictionary<ScalarType, Tensor> staging = [];

        /// <summary>The tensor of <paramref name="key"/> in <paramref name="type"/>: read straight into it when stored so, else block by block.</summary>
        public Tensor Read(string key, ScalarType type)
        {
            var (shape, stored) = source.Entries[key];
            var result = empty(shape, type);
            try
            {
                if (stored == type)
                {
                    source.ReadElements(key, 0, result);
                    return result;
                }
                using var flat = result.view(-1);
                long total = flat.numel();
                for (long first = 0; first < total; first += blockElements)
                {
                    using var scope = NewDisposeScope();
                    var block = Block(stored, Math.Min(blockElements, total - first));
                    source.ReadElements(key, first, block);
                    flat.narrow(0, first, block.numel()).copy_(block); // converts (round to nearest even, as .to(dtype) does)
                }
                return result;
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }

        /// <summary>
        /// A frozen <see cref="QuantizedLinear"/> computing in <paramref name="computeType"/> from the weight [out, in] of
        /// <paramref name="weightKey"/>, quantized a block of whole rows at a time.
        /// </summary>
        public QuantizedLinear ReadQuantized(string weightKey, string? biasKey, ScalarType computeType)
        {
            var (shape, stored) = source.Entries[weightKey];
            if (shape.Length != 2) throw new ShapeMismatchException($"{weightKey} (to quantize)", "[out_features, in_features]", shape);
            var (rows, columns) = (shape[0], shape[1]);
            var codes = empty(shape, ScalarType.Int8);
            var scales = empty(rows, ScalarType.Float32);
            Tensor? bias = null;
            try
            {
                long step = Math.Max(1, blockElements / Math.Max(1, columns));
                for (long first = 0; first < rows; first += step)
                {
                    using var scope = NewDisposeScope();
                    long count = Math.Min(step, rows - first);
                    var block = Block(stored, count * columns).view(count, columns);
                    source.ReadElements(weightKey, first * columns, block);
                    // QuantizeRows works in place on float32 scratch: a float32 checkpoint's block is that already.
                    var rowsToQuantize = stored == ScalarType.Float32 ? block : Block(ScalarType.Float32, count * columns).view(count, columns).copy_(block);
                    Int8Weights.QuantizeRows(rowsToQuantize, codes.narrow(0, first, count), scales.narrow(0, first, count));
                }
                bias = biasKey is null ? null : Read(biasKey, computeType);
                var layer = QuantizedLinear.FromQuantized(codes, scales, bias, computeType);
                foreach (var parameter in layer.parameters()) parameter.requires_grad = false;
                return layer;
            }
            catch
            {
                codes.Dispose();
                scales.Dispose();
                throw;
            }
            finally
            {
                bias?.Dispose();
            }
        }

        // The first `count` elements of the staging buffer for `type`, grown (never shrunk) when a block needs more.
        private Tensor Block(ScalarType type, long count)
        {
            if (!staging.TryGetValue(type, out var buffer) || buffer.numel() < count)
            {
                buffer?.Dispose();
                staging[type] = buffer = empty(Math.Max(count, blockElements), type).DetachFromDisposeScope();
            }
            return buffer.narrow(0, 0, count);
        }

        public void Dispose()
        {
            foreach (var buffer in staging.Values) buffer.Dispose();
        }
    }

    private static void Check(nn.Module model, Source source)
    {
        var target = model.state_dict();
        var missing = target.Keys.Where(k => !source.Entries.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = source.Entries.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var mismatches = new List<string>();
        foreach (var (key, tensor) in target)
        {
            if (!source.Entries.TryGetValue(key, out var entry)) continue;
            if (!tensor.shape.SequenceEqual(entry.Shape))
                mismatches.Add($"{key}: expected {ShapeMismatchException.Format(tensor.shape)} but got {ShapeMismatchException.Format(entry.Shape)}");
            else if (!(tensor.is_floating_point() && IsFloating(entry.DType)) && tensor.dtype != entry.DType)
                mismatches.Add($"{key}: expected dtype {tensor.dtype} but got {entry.DType}");
        }
        if (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0)
            throw new CheckpointMismatchException(source.Name, missing, unexpected, mismatches);
    }

    private static bool IsFloating(ScalarType type) => type is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;
}
