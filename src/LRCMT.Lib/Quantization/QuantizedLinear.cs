using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Quantization;

/// <summary>
/// A frozen linear projection held in int8 (<see cref="Int8Weights"/>: per-output-channel symmetric codes and float32
/// scales) that LoRA adapters attach to like any other layer: y = x · (q · s)ᵀ + b + s_LoRA · B · A · x, the adapters
/// in float32. The weight is dequantised per call to the type of the input, one layer at a time, and not kept for
/// backward (<see cref="Int8ProjectionFunction"/>). State-dict keys: <c>weight</c> (int8 [out, in]), <c>weight_scale</c>
/// (float32 [out]), <c>bias</c> ([out], in the layer's compute type) and the adapters' <c>lora_A.*</c> / <c>lora_B.*</c>.
/// </summary>
/// <remarks>
/// The layer has a compute type like any float module: the floating type it was made in, changed by
/// <c>Module.to(dtype)</c> (an int8 base is converted to bfloat16 by <c>BasePrecision</c> or loaded so). It holds the
/// bias in it and reads <see cref="BaseWeight"/> back in it; <c>to(dtype)</c> leaves the codes int8 and the scales
/// float32, so converting a model never re-rounds the quantized weights.
/// Merging an adapter into an int8 weight is refused with <see cref="AdapterException"/>: the merged weight would be
/// re-quantized, so unmerging could not restore it. Keep the adapter separate (PEFT does the same for quantized bases),
/// or merge into a float32 base.
/// </remarks>
internal sealed class QuantizedLinear : LoRALayer
{
    private readonly Tensor weight;
    private readonly Tensor weight_scale;
    private Parameter? bias;

    // Not a tensor, so TorchSharp does not register it.
    private ScalarType _computeType;

    /// <summary>Quantizes <paramref name="source"/>'s weight; the layer computes in the weight's type, and its bias is copied and frozen.</summary>
    /// <exception cref="InvalidInputException">The weight holds NaN or infinity.</exception>
    public QuantizedLinear(Linear source) : this(CheckNotNull(source).weight, source.bias) { }

    /// <summary>
    /// Quantizes a weight [out, in] (any floating type); the layer computes in the weight's type, and the optional bias
    /// [out] is copied in that type and frozen.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The weight is not 2-D, or the bias is not [out].</exception>
    /// <exception cref="InvalidInputException">The weight is not floating point, or holds NaN or infinity.</exception>
    public QuantizedLinear(Tensor weight, Tensor? bias) : this(CheckBias(weight, bias), Int8Weights.Quantize(weight), bias, weight.dtype) { }

    // The codes and scales become the layer's own; the bias is copied in the compute type.
    private QuantizedLinear(long inFeatures, (Tensor Codes, Tensor Scales) quantized, Tensor? bias, ScalarType computeType)
        : base(nameof(QuantizedLinear), inFeatures, quantized.Codes.shape[0])
    {
        weight = quantized.Codes.DetachFromDisposeScope();
        weight_scale = quantized.Scales.DetachFromDisposeScope();
        _computeType = computeType;
        if (bias is not null)
        {
            using var _ = no_grad();
            this.bias = new Parameter(bias.detach().to(computeType, copy: true).DetachFromDisposeScope(), requires_grad: false);
        }
        RegisterComponents();
    }

    /// <summary>
    /// A layer over codes and scales quantized already (<see cref="Int8Weights.QuantizeRows"/>), which it takes over,
    /// computing in <paramref name="computeType"/> (the bias is copied in it).
    /// </summary>
    internal static QuantizedLinear FromQuantized(Tensor codes, Tensor scales, Tensor? bias, ScalarType computeType)
        => new(codes.shape[1], (codes, scales), bias, computeType);

    /// <summary>The int8 codes [out, in].</summary>
    public Tensor Codes => weight;

    /// <summary>The float32 scale of each output row [out].</summary>
    public Tensor Scales => weight_scale;

    /// <summary>The frozen bias [out] in <see cref="ComputeType"/>, or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>The floating type the layer holds its bias and reads its weight back in (see the class remarks).</summary>
    public ScalarType ComputeType => _computeType;

    /// <inheritdoc/>
    /// <remarks>A fresh dequantisation (q · s, in <see cref="ComputeType"/>) on every read: changing it does not change the stored codes.</remarks>
    protected override Tensor BaseWeight => Int8Weights.Dequantize(weight, weight_scale, _computeType);

    /// <inheritdoc/>
    protected override Tensor? BaseBias => bias;

    internal override long FrozenBufferElements => weight.numel() + weight_scale.numel();

    private protected override (Device Device, ScalarType Type) BaseWeightPlacement => (weight.device, _computeType);

    private protected override Tensor BaseProjection(Tensor input) => Int8ProjectionFunction.Apply(input, weight, weight_scale, bias);

    private protected override void BeforeWeightChange()
        => throw new AdapterException(null,
            "the base weight is int8: merging would re-quantize it, and unmerging could not restore it. Keep the adapter separate, or merge into a float32 base.");

    /// <summary>
    /// <c>Module.to(dtype)</c>: the compute type and the bias follow, and so do the adapter containers (whoever converts
    /// puts them back, as <c>BasePrecision</c> does); the int8 codes and float32 scales stay as they are.
    /// </summary>
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            return base._to(dtype, non_blocking); // TorchSharp's own handling (and refusal) of the other types
        if (bias is not null && bias.dtype != dtype)
        {
            using var _ = no_grad();
            // Out of any dispose scope: the caller's (BasePrecision converts inside one) would free the new bias.
            var converted = new Parameter(bias.to(dtype, non_blocking), requires_grad: bias.requires_grad);
            converted.DetachFromDisposeScope();
            var old = bias;
            bias = converted;
            ConditionallyRegisterParameter(nameof(bias), converted);
            old.Dispose();
        }
        _computeType = dtype;
        // Not TorchSharp's _toEpilog: it would convert the scales too.
        foreach (var (_, child) in named_children()) child.to(dtype, non_blocking);
        return this;
    }

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
