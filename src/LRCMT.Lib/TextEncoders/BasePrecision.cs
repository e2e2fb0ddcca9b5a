using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LRCMT.Configuration;

namespace LRCMT.TextEncoders;

/// <summary>
/// Holds a frozen text encoder in bfloat16, float16 or int8 while its LoRA adapters stay float32 — what PEFT users do
/// with <c>model.to(torch.bfloat16)</c> or a quantized base plus fp32 adapters, to shrink the base's memory.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 has no autocast (no <c>torch.autocast</c> / AutocastMode binding), so the precision is explicit:
/// the base's weights are converted once, the encoder then computes in the half type, and each LoRA layer casts its
/// input up to the adapters' float32 and its update back down (see <c>LoRALayer</c>), so the adapters' gradients are
/// computed in float32 from the half-precision upstream gradient. The encoder's output is half precision;
/// <c>LRCMTModel</c> casts it to float32 before the fusion. An int8 base computes in bfloat16 like a bf16 base: its
/// projections are dequantised to bfloat16, everything else of the base is held in bfloat16 (see
/// <see cref="BaseDType.Int8"/>). Loading straight into the dtype (<c>BertModel.FromPretrained(folder, dtype)</c>)
/// never holds the float32 model in memory; converting here needs it once.
/// </remarks>
public static class BasePrecision
{
    /// <summary>The TorchSharp element type a <see cref="BaseDType"/> stores the base's weights in (int8 codes for <see cref="BaseDType.Int8"/>).</summary>
    public static ScalarType ToScalarType(this BaseDType dtype) => dtype switch
    {
        BaseDType.Float32 => ScalarType.Float32,
        BaseDType.BFloat16 => ScalarType.BFloat16,
        BaseDType.Float16 => ScalarType.Float16,
        BaseDType.Int8 => ScalarType.Int8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown base dtype."),
    };

    /// <summary>
    /// The floating type a base of <paramref name="dtype"/> computes in and holds its unquantized tensors (embeddings,
    /// LayerNorm, biases) in: the dtype itself for the float types; bfloat16 for <see cref="BaseDType.Int8"/>, whose
    /// projections are dequantised to it (float32's range, so no overflow where float16's would).
    /// </summary>
    internal static ScalarType ComputeType(this BaseDType dtype) => dtype == BaseDType.Int8 ? ScalarType.BFloat16 : dtype.ToScalarType();

    /// <summary>
    /// Puts the frozen base of <paramref name="encoder"/> in <paramref name="dtype"/>. bf16/fp16: every frozen parameter
    /// and buffer is converted, after LoRA injection or before; adapter tensors (those of <see cref="LoRALayer"/>s, found by
    /// structure) keep float32 and their exact values; a base already in the dtype is left as it is. Int8: every
    /// <c>nn.Linear</c> of the base becomes a <see cref="QuantizedLinear"/>, the whole base is frozen and its other
    /// floating tensors are converted to bfloat16 as for <see cref="BaseDType.BFloat16"/> (the int8 codes and their
    /// float32 scales stay as they are); do this before injecting LoRA, which then attaches to the quantized layers.
    /// Float32 does nothing.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">A parameter outside the adapters trains (full fine-tuning) for a half
    /// type: optimizer updates in a half type would round away, so only a frozen base may be converted; Int8 asked for after
    /// LoRA was injected into float layers; a half type asked for on an int8 base; or the dtype is not a named value.</exception>
    /// <exception cref="AdapterException">A projection to quantize sits in a parent field that cannot hold a <see cref="QuantizedLinear"/>.</exception>
    public static void Apply(nn.Module encoder, BaseDType dtype)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        SettingRules.ThrowIf("base dtype", SettingRules.Defined("dtype", dtype));
        if (dtype == BaseDType.Float32) return;
        var layers = encoder.modules().Prepend(encoder).OfType<LoRALayer>().ToList();
        if (dtype == BaseDType.Int8)
        {
            Quantize(encoder, layers);
            layers = encoder.modules().Prepend(encoder).OfType<LoRALayer>().ToList(); // the quantized layers replaced the Linears
        }
        else if (layers.OfType<QuantizedLinear>().Any())
            throw new InvalidConfigurationException("base dtype", $"{dtype} was asked for, but the base is already int8 (QuantizedLinear layers); load the encoder again in {dtype}.");
        ConvertFrozen(encoder, layers, dtype);
    }

    // Converts every frozen floating tensor of the base to the dtype's compute type; adapters keep float32, and a
    // quantized layer keeps its codes and float32 scales (QuantizedLinear converts only its bias).
    private static void ConvertFrozen(nn.Module encoder, IReadOnlyList<LoRALayer> layers, BaseDType dtype)
    {
        var adapters = AdapterHandles(layers);
        var scales = layers.OfType<QuantizedLinear>().Select(q => q.Scales.Handle).ToHashSet();
        var trainingBase = encoder.named_parameters().Where(p => p.parameter.requires_grad && !adapters.Contains(p.parameter.Handle)).Select(p => p.name).Take(3).ToList();
        if (trainingBase.Count > 0)
            throw new InvalidConfigurationException("base dtype",
                $"{dtype} needs a frozen base (LoRA or frozen tuning), but base parameters train: {string.Join(", ", trainingBase)}, …");
        var type = dtype.ComputeType();
        var baseTensors = encoder.parameters().Where(p => !adapters.Contains(p.Handle)).Cast<Tensor>()
            .Concat(encoder.buffers().Where(b => !scales.Contains(b.Handle)));
        if (baseTensors.All(t => !t.is_floating_point() || t.dtype == type)) return; // loaded in this dtype already

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Adapter containers (lora_A, lora_B, … of each layer) are the children whose tensors are all adapter tensors.
        var containers = layers.SelectMany(l => l.children())
            .Where(c => c.parameters().Any() && c.parameters().All(p => adapters.Contains(p.Handle))).ToList();
        var exact = encoder.named_parameters().Where(p => adapters.Contains(p.parameter.Handle))
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());
        encoder.to(type);
        foreach (var container in containers) container.to(ScalarType.Float32);
        foreach (var (name, parameter) in encoder.named_parameters())
            if (exact.TryGetValue(name, out var value)) parameter.copy_(value);
    }

    /// <summary>
    /// Only the first half of <see cref="Apply"/> for <see cref="BaseDType.Int8"/>: the projections quantized, the base
    /// frozen, every other tensor left in its type (the layout int8 bases had before they computed in bfloat16).
    /// </summary>
    internal static void QuantizeProjections(nn.Module encoder) => Quantize(encoder, encoder.modules().Prepend(encoder).OfType<LoRALayer>().ToList());

    private static void Quantize(nn.Module encoder, IReadOnlyList<LoRALayer> layers)
    {
        var adapted = layers.Where(l => l is not QuantizedLinear && l.AdapterNames.Count > 0).ToList();
        if (adapted.Count > 0)
            throw new InvalidConfigurationException("base dtype",
                $"Int8 must be applied before LoRA is injected ({adapted.Count} float layers carry adapters already); quantize the base first, or load it with FromPretrained(folder, BaseDType.Int8).");

        var modules = encoder.named_modules().ToDictionary(m => m.name, m => m.module);
        modules[""] = encoder;
        var inside = modules.Where(m => m.Value is LoRALayer).Select(m => m.Key).ToList();
        var targets = modules.Where(m => m.Value is Linear && !inside.Any(p => p.Length == 0 || m.Key.StartsWith(p + ".", StringComparison.Ordinal)))
            .Select(m => (Path: m.Key, Linear: (Linear)m.Value)).ToList();
        Parent Of(string path)
        {
            int dot = path.LastIndexOf('.');
            return new Parent(modules[dot < 0 ? "" : path[..dot]], path[(dot + 1)..]);
        }
        // Everything is checked before anything changes.
        foreach (var (path, linear) in targets)
        {
            if (path.Length == 0) throw new InvalidConfigurationException("base dtype", "Int8 quantizes the projections inside an encoder, not a bare Linear; wrap it in a module.");
            var parent = Of(path);
            ModuleReplacer.EnsureReplaceable(parent.Module, parent.ChildName, linear, typeof(QuantizedLinear), path);
        }

        using var _ = no_grad();
        foreach (var (path, linear) in targets)
        {
            var parent = Of(path);
            ModuleReplacer.Replace(parent.Module, parent.ChildName, linear, new QuantizedLinear(linear), path);
            linear.Dispose();
        }
        var adapters = AdapterHandles(layers);
        foreach (var parameter in encoder.parameters().Where(p => !adapters.Contains(p.Handle))) parameter.requires_grad = false;
    }

    // The adapters' tensors, found by structure: they keep float32 and stay trainable whatever the base becomes.
    private static HashSet<IntPtr> AdapterHandles(IEnumerable<LoRALayer> layers) => layers.SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();

    private sealed record Parent(nn.Module Module, string ChildName);
}
