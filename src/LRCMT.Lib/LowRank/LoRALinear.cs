using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// A linear layer with LoRA adapters. It keeps the frozen projection under the names <c>weight</c> [out, in] and
/// <c>bias</c> [out], exactly where the replaced <c>nn.Linear</c> had them, so base checkpoints still load; adapters
/// sit beside them as <c>lora_A.&lt;adapter&gt;.weight</c> / <c>lora_B.&lt;adapter&gt;.weight</c>.
/// </summary>
/// <example>
/// <code>
/// var layer = new LoRALinear(nn.Linear(768, 768));
/// layer.AddAdapter("default", new LoRAConfig { Rank = 8, Alpha = 16 });
/// </code>
/// </example>
public sealed class LoRALinear : LoRALayer
{
    private Parameter weight;
    private Parameter? bias;

    /// <summary>Wraps <paramref name="baseLayer"/>'s weight and bias (the same tensors, not copies) and freezes them.</summary>
    public LoRALinear(Linear baseLayer) : this(CheckNotNull(baseLayer).weight, baseLayer.bias) { }

    /// <summary>Wraps a weight [out, in] and optional bias [out] (the same tensors, not copies) and freezes them.</summary>
    /// <exception cref="ShapeMismatchException">The weight is not 2-D, or the bias is not [out].</exception>
    public LoRALinear(Parameter weight, Parameter? bias) : base(nameof(LoRALinear), InFeaturesOf(weight), weight.shape[0])
    {
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new ShapeMismatchException("LoRALinear bias", $"[{weight.shape[0]}]", bias.shape);
        this.weight = weight;
        this.bias = bias;
        weight.requires_grad = false;
        if (bias is not null) bias.requires_grad = false;
        RegisterComponents();
    }

    /// <summary>The frozen weight [out, in] (after <see cref="LoRALayer.Merge"/> it includes the merged adapter).</summary>
    public Parameter Weight => weight;

    /// <summary>The frozen bias [out], or null.</summary>
    public Parameter? Bias => bias;

    /// <inheritdoc/>
    protected override Tensor BaseWeight => weight;

    /// <inheritdoc/>
    protected override Tensor? BaseBias => bias;

    private static Linear CheckNotNull(Linear baseLayer)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        return baseLayer;
    }

    private static long InFeaturesOf(Parameter weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ShapeMismatchException("LoRALinear weight", "[out_features, in_features]", weight.shape);
        return weight.shape[1];
    }
}
