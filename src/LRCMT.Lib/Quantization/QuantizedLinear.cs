using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// A frozen linear projection held in int8 (<see cref="Int8Weights"/>: per-output-channel symmetric codes and float32
/// scales) that LoRA adapters attach to like any other layer: y = x · (q · s)ᵀ + b + s_LoRA · B · A · x, the adapters
/// in float32. The weight is dequantised per call, one layer at a time, and not kept for backward
/// (<see cref="Int8ProjectionFunction"/>). State-dict keys: <c>weight</c> (int8 [out, in]), <c>weight_scale</c>
/// (float32 [out]), <c>bias</c> (float32 [out]) and the adapters' <c>lora_A.*</c> / <c>lora_B.*</c>.
/// </summary>
/// <remarks>
/// Merging an adapter into an int8 weight is refused with <see cref="AdapterException"/>: the merged weight would be
/// re-quantized, so unmerging could not restore it. Keep the adapter separate (PEFT does the same for quantized bases),
/// or merge into a float32 base.
/// </remarks>
internal sealed class QuantizedLinear : LoRALayer
{
    private readonly Tensor weight;
    private readonly Tensor weight_scale;
    private readonly Parameter? bias;

    /// <summary>Quantizes <paramref name="source"/>'s weight; its bias is copied to float32 and frozen.</summary>
    /// <exception cref="InvalidInputException">The weight holds NaN or infinity.</exception>
    public QuantizedLinear(Linear source) : this(CheckNotNull(source).weight, source.bias) { }

    /// <summary>Quantizes a weight [out, in] (any floating type); the optional bias [out] is copied to float32 and frozen.</summary>
    /// <exception cref="ShapeMismatchException">The weight is not 2-D, or the bias is not [out].</exception>
    /// <exception cref="InvalidInputException">The weight is not floating point, or holds NaN or infinity.</exception>
    public QuantizedLinear(Tensor weight, Tensor? bias) : this(CheckBias(weight, bias), Int8Weights.Quantize(weight), bias) { }

    // The codes and scales become the layer's own; the bias is copied.
    private QuantizedLinear(long inFeatures, (Tensor Codes, Tensor Scales) quantized, Tensor? bias)
        : base(nameof(QuantizedLinear), inFeatures, quantized.Codes.shape[0])
    {
        weight = quantized.Codes.DetachFromDisposeScope();
        weight_scale = quantized.Scales.DetachFromDisposeScope();
        if (bias is not null)
        {
            using var _ = no_grad();
            this.bias = new Parameter(bias.detach().to(ScalarType.Float32, copy: true).DetachFromDisposeScope(), requires_grad: false);
        }
        RegisterComponents();
    }

    /// <summary>A layer over codes and scales quantized already (<see cref="Int8Weights.QuantizeRows"/>); it takes them over.</summary>
    internal static QuantizedLinear FromQuantized(Tensor codes, Tensor scales, Tensor? bias) => new(codes.shape[1], (codes, scales), bias);

    /// <summary>The int8 codes [out, in].</summary>
    public Tensor Codes => weight;

    /// <summary>The float32 scale of each output row [out].</summary>
    public Tensor Scales => weight_scale;

    /// <summary>The frozen float32 bias [out], or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc/>
    /// <remarks>A fresh float32 dequantisation (q · s) on every read: changing it does not change the stored codes.</remarks>
    protected override Tensor BaseWeight => Int8Weights.Dequantize(weight, weight_scale);

    /// <inheritdoc/>
    protected override Tensor? BaseBias => bias;

    internal override long FrozenBufferElements => weight.numel() + weight_scale.numel();

    private protected override Tensor BaseProjection(Tensor input) => Int8ProjectionFunction.Apply(input, weight, weight_scale, bias);

    private protected override void BeforeWeightChange()
        => throw new AdapterException(null,
            "the base weight is int8: merging would re-quantize it, and unmerging could not restore it. Keep the adapter separate, or merge into a float32 base.");

    private static Linear CheckNotNull(Linear source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source;
    }

    // Checks the weight's and bias's shapes before anything is quantized; returns in_features.
    private static long CheckBias(Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ShapeMismatchException("QuantizedLinear weight", "[out_features, in_features]", weight.shape);
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new ShapeMismatchException("QuantizedLinear bias", $"[{weight.shape[0]}]", bias.shape);
        return weight.shape[1];
    }
}
