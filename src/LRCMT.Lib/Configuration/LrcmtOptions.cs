using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>
/// Every setting of an LRCMT model, bindable from configuration (section <see cref="SectionName"/> of
/// appsettings.json). The defaults are LRCMT's, LoRA targets included; register with <c>services.AddLrcmt(...)</c>
/// (validated at start-up) or pass to <see cref="LrcmtBuilder.FromOptions(LrcmtOptions)"/>. Two options objects are
/// equal when every setting is, lists and dictionaries compared by content.
/// </summary>
public sealed record LrcmtOptions
{
    /// <summary>The configuration section these options bind from by default.</summary>
    public const string SectionName = "Lrcmt";

    /// <summary>LRCMT's LoRA targets: BERT's query and value projections.</summary>
    internal static IReadOnlyList<string> DefaultLoRATargets { get; } = ["query", "value"];

    /// <summary>Where the pretrained text encoder comes from and which of its parameters train.</summary>
    public TextEncoderOptions TextEncoder { get; set; } = new();

    /// <summary>LoRA adapters injected into the encoder when <see cref="TextEncoderOptions.Tuning"/> is LoRA (default: r=8, alpha 16, dropout 0.1 on query and value).</summary>
    public LoRAConfig LoRA { get; set; } = new() { Rank = 8, Alpha = 16, Dropout = 0.1, TargetModules = [.. DefaultLoRATargets] };

    /// <summary>Raw feature sizes of the acoustic and visual inputs and the projection kernels.</summary>
    public ModalityOptions Modalities { get; set; } = new();

    /// <summary>Width, heads, layers and dropouts of the cross-modal encoders.</summary>
    public CrossModalSettings Fusion { get; set; } = new();

    /// <summary>How the text meets the acoustic and visual sequences.</summary>
    public InteractionOptions Interaction { get; set; } = new();

    /// <summary>Regression or classification head.</summary>
    public HeadOptions Head { get; set; } = new();

    /// <summary>
    /// The options a built model actually uses: its feature sizes, fusion shape, head, tuning, the LoRA configuration
    /// as injected (targets resolved) and its encoder source.
    /// </summary>
    public static LrcmtOptions Of(LRCMTModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var a = model.Architecture;
        return new LrcmtOptions
        {
            TextEncoder = new TextEncoderOptions
            {
                PretrainedFolder = model.BaseEncoder?.PretrainedFolder, OnnxFile = model.BaseEncoder?.OnnxFile, Tuning = model.Tuning,
            },
            LoRA = model.LoRA is { } lora ? LoRAConfigs.Copy(lora) : new LrcmtOptions().LoRA,
            Modalities = new ModalityOptions
            {
                AcousticFeatures = a.AcousticFeatures, VisualFeatures = a.VisualFeatures,
                TextKernelSize = a.TextKernelSize, AcousticKernelSize = a.AcousticKernelSize, VisualKernelSize = a.VisualKernelSize,
            },
            Fusion = a.FusionSettings with { },
            Interaction = new InteractionOptions { Mode = a.Interaction, TextAttendedByMemory = a.TextAttendedByMemory },
            Head = new HeadOptions { Kind = a.Head, Classes = a.Classes, Dropout = a.OutputDropout },
        };
    }

    /// <inheritdoc />
    public bool Equals(LrcmtOptions? other) =>
        other is not null
        && TextEncoder == other.TextEncoder
        && LoRAConfigs.ContentEquals(LoRA, other.LoRA)
        && Modalities == other.Modalities
        && Fusion == other.Fusion
        && Interaction == other.Interaction
        && Head == other.Head;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(TextEncoder, LoRAConfigs.ContentHash(LoRA), Modalities, Fusion, Interaction, Head);

    /// <summary>A deep copy, so a builder can change its settings without touching the caller's.</summary>
    internal LrcmtOptions DeepCopy() => new()
    {
        TextEncoder = TextEncoder with { },
        LoRA = LoRAConfigs.Copy(LoRA),
        Modalities = Modalities with { },
        Fusion = Fusion with { },
        Interaction = Interaction with { },
        Head = Head with { },
    };

    /// <summary>The architecture these options describe.</summary>
    internal LrcmtArchitecture ToArchitecture() => new(
        AcousticFeatures: Modalities.AcousticFeatures,
        VisualFeatures: Modalities.VisualFeatures,
        Fusion: Fusion with { },
        Interaction: Interaction.Mode,
        TextAttendedByMemory: Interaction.TextAttendedByMemory,
        Head: Head.Kind,
        Classes: Head.Classes,
        OutputDropout: Head.Dropout,
        TextKernelSize: Modalities.TextKernelSize,
        AcousticKernelSize: Modalities.AcousticKernelSize,
        VisualKernelSize: Modalities.VisualKernelSize);

    /// <summary>
    /// Every problem of these options (every field and cross-field rule), as <see cref="LrcmtBuilder"/> would
    /// report them; empty when they are valid.
    /// </summary>
    /// <param name="encoderGivenInCode">True when the text encoder is passed in code, so the encoder-source rules do not apply.</param>
    public IReadOnlyList<SettingProblem> FindProblems(bool encoderGivenInCode = false)
        => LrcmtOptionsValidator.AllProblems(this, encoderGivenInCode);
}
