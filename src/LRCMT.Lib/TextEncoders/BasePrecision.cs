using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// Holds a frozen text encoder in bfloat16 or float16 while its LoRA adapters stay float32 — what PEFT users do
/// with <c>model.to(torch.bfloat16)</c> plus fp32 adapters, to halve the base's memory.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 has no autocast (no <c>torch.autocast</c> / AutocastMode binding), so the precision is explicit:
/// the base's weights are converted once here, the encoder then computes in the half type, and each LoRA layer
/// casts its input up to the adapters' float32 and its update back down (see <c>LoRALayer</c>), so the adapters'
/// gradients are computed in float32 from the half-precision upstream gradient. The encoder's output is half
/// precision; <c>LRCMTModel</c> casts it to float32 before the fusion.
/// </remarks>
public static class BasePrecision
{
    /// <summary>The TorchSharp element type of a <see cref="BaseDType"/>.</summary>
    public static ScalarType ToScalarType(this BaseDType dtype) => dtype switch
    {
        BaseDType.Float32 => ScalarType.Float32,
        BaseDType.BFloat16 => ScalarType.BFloat16,
        BaseDType.Float16 => ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown base dtype."),
    };

    /// <summary>
    /// Converts every frozen parameter and buffer of <paramref name="encoder"/> to <paramref name="dtype"/>; adapter
    /// tensors (modules named <c>lora_*</c>) keep float32 and their exact values. Float32 does nothing.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">A parameter outside the adapters trains (full fine-tuning):
    /// optimizer updates in a half type would round away, so only a frozen base may be converted.</exception>
    public static void Apply(nn.Module encoder, BaseDType dtype)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (dtype == BaseDType.Float32) return;
        var trainingBase = encoder.named_parameters().Where(p => p.parameter.requires_grad && !IsAdapter(p.name)).Select(p => p.name).Take(3).ToList();
        if (trainingBase.Count > 0)
            throw new InvalidConfigurationException("base dtype",
                $"{dtype} needs a frozen base (LoRA or frozen tuning), but base parameters train: {string.Join(", ", trainingBase)}, …");

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var adapters = encoder.named_parameters().Where(p => IsAdapter(p.name)).ToDictionary(p => p.name, p => p.parameter.detach().clone());
        encoder.to(dtype.ToScalarType());
        foreach (var (name, module) in encoder.named_modules())
            if (IsAdapterContainer(name)) module.to(ScalarType.Float32);
        foreach (var (name, parameter) in encoder.named_parameters())
            if (adapters.TryGetValue(name, out var exact)) parameter.copy_(exact);
    }

    private static bool IsAdapter(string parameterName) => parameterName.Split('.').Any(IsAdapterSegment);

    private static bool IsAdapterContainer(string moduleName) => moduleName.Length > 0 && IsAdapterSegment(moduleName.Split('.')[^1]);

    private static bool IsAdapterSegment(string segment) => segment.StartsWith("lora_", StringComparison.Ordinal);
}
