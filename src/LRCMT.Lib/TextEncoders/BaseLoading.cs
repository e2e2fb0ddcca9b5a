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
internal static class BaseLoading
{
    /// <summary>Where the weights come from: each tensor's shape and dtype up front, and a reader for one tensor at a time.</summary>
    /// <param name="Entries">Shape and dtype by model key.</param>
    /// <param name="Read">Reads the tensor of a model key; the result is disposed after use when <paramref name="Owned"/>.</param>
    /// <param name="Name">The file or source named in error messages.</param>
    /// <param name="Owned">True when each read tensor is a fresh copy this loader may dispose at once.</param>
    public sealed record Source(IReadOnlyDictionary<string, (long[] Shape, ScalarType DType)> Entries, Func<string, Tensor> Read, string Name, bool Owned)
    {
        /// <summary>A source over tensors already in memory (they stay the caller's).</summary>
        public static Source Of(IReadOnlyDictionary<string, Tensor> tensors, string name)
            => new(tensors.ToDictionary(t => t.Key, t => (t.Value.shape, t.Value.dtype)), key => tensors[key], name, Owned: false);
    }

    /// <summary>The meta device models are built on before <see cref="Fill"/>.</summary>
    public static Device Meta => META;

    /// <exception cref="CheckpointMismatchException">A key is missing or unexpected, or a shape or dtype differs.</exception>
    public static void Fill(nn.Module model, Source source, BaseDType dtype)
    {
        Check(model, source);
        var floating = dtype == BaseDType.Int8 ? ScalarType.Float32 : dtype.ToScalarType();
        bool trainable = dtype == BaseDType.Float32; // a half or int8 base is frozen from the start
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        modules[""] = model;
        using var _ = no_grad();
        foreach (var (path, module) in modules.ToList())
        {
            string Key(string name) => path.Length == 0 ? name : $"{path}.{name}";
            Parameter Load(string name, ScalarType type)
            {
                var read = source.Read(Key(name));
                try
                {
                    return new Parameter(read.to(type, copy: true).contiguous(), trainable);
                }
                finally
                {
                    if (source.Owned) read.Dispose();
                }
            }

            switch (module)
            {
                case Linear linear when dtype == BaseDType.Int8:
                    var quantized = QuantizedFrom(source, Key("weight"), linear.bias is null ? null : Key("bias"));
                    var dot = path.LastIndexOf('.');
                    ModuleReplacer.Replace(modules[dot < 0 ? "" : path[..dot]], path[(dot + 1)..], linear, quantized, path);
                    linear.Dispose();
                    break;
                case Linear linear:
                    linear.weight = Load("weight", floating);
                    if (linear.bias is not null) linear.bias = Load("bias", floating);
                    break;
                case Embedding embedding:
                    embedding.weight = Load("weight", floating);
                    break;
                case LayerNorm norm:
                    norm.weight = Load("weight", floating);
                    if (norm.bias is not null) norm.bias = Load("bias", floating);
                    break;
                default:
                    if (module.named_parameters(recurse: false).Any() || module.named_buffers(recurse: false).Any())
                        throw new InvalidOperationException($"{module.GetType().Name} at '{path}' holds tensors this loader cannot place.");
                    break;
            }
        }
    }

    private static QuantizedLinear QuantizedFrom(Source source, string weightKey, string? biasKey)
    {
        var weight = source.Read(weightKey);
        var bias = biasKey is null ? null : source.Read(biasKey);
        try
        {
            var layer = new QuantizedLinear(weight, bias);
            foreach (var parameter in layer.parameters()) parameter.requires_grad = false;
            return layer;
        }
        finally
        {
            if (source.Owned)
            {
                weight.Dispose();
                bias?.Dispose();
            }
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
