using LRCMT.LowRank;
using Microsoft.Extensions.Options;

namespace LRCMT.Configuration;

/// <summary>
/// Every setting of an LRCMT model, bindable from configuration (section <see cref="SectionName"/> of
/// appsettings.json). Validated by data annotations and <see cref="LrcmtOptionsValidator"/>; register with
/// <c>services.AddLrcmt(...)</c> or pass to <see cref="LrcmtBuilder.FromOptions(LrcmtOptions)"/>.
/// </summary>
public sealed class LrcmtOptions
{
    /// <summary>The configuration section these options bind from by default.</summary>
    public const string SectionName = "Lrcmt";

    /// <summary>Where the pretrained text encoder comes from and which of its parameters train.</summary>
    [ValidateObjectMembers]
    public TextEncoderOptions TextEncoder { get; set; } = new();

    /// <summary>
    /// LoRA adapters injected into the encoder when <see cref="TextEncoderOptions.Tuning"/> is LoRA. Leave
    /// <c>TargetModules</c> and <c>TargetRegex</c> empty for LRCMT's default targets, BERT's <c>query</c> and <c>value</c>.
    /// </summary>
    public LoRAConfig LoRA { get; set; } = new() { Rank = 8, Alpha = 16, Dropout = 0.1 };

    /// <summary>Raw feature sizes of the acoustic and visual inputs and the projection kernels.</summary>
    [ValidateObjectMembers]
    public ModalityOptions Modalities { get; set; } = new();

    /// <summary>Width, heads, layers and dropouts of the cross-modal encoders.</summary>
    [ValidateObjectMembers]
    public FusionOptions Fusion { get; set; } = new();

    /// <summary>How the text meets the acoustic and visual sequences.</summary>
    [ValidateObjectMembers]
    public InteractionOptions Interaction { get; set; } = new();

    /// <summary>Regression or classification head.</summary>
    [ValidateObjectMembers]
    public HeadOptions Head { get; set; } = new();

    /// <summary>A deep copy, so a builder can change its settings without touching the caller's.</summary>
    internal LrcmtOptions Clone() => new()
    {
        TextEncoder = TextEncoder with { },
        LoRA = LoRA with
        {
            TargetModules = [.. LoRA.TargetModules ?? []],
            ExcludeModules = [.. LoRA.ExcludeModules ?? []],
            ModulesToSave = [.. LoRA.ModulesToSave ?? []],
            LayersToTransform = LoRA.LayersToTransform is null ? null : [.. LoRA.LayersToTransform],
            RankPattern = new(LoRA.RankPattern ?? []),
            AlphaPattern = new(LoRA.AlphaPattern ?? []),
        },
        Modalities = Modalities with { },
        Fusion = Fusion with { },
        Interaction = Interaction with { },
        Head = Head with { },
    };
}
