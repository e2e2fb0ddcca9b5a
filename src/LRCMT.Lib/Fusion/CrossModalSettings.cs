using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.Fusion;

/// <summary>
/// Shape and regularisation of every cross-modal transformer: the one settings type of the fusion module, used by
/// <see cref="CrossModalEncoder"/> / <see cref="CrossModalBlock"/> in code and bound from configuration as
/// <c>LrcmtOptions.Fusion</c>. The defaults (width 50, 5 heads, 5 layers, MulT's dropouts) are LRCMT's: on
/// bert-base with LoRA r=8 they keep the trainable share near 0.73%. Modules copy the settings they are built with,
/// so changing an instance later does not change a built model.
/// </summary>
/// <remarks>Every rule lives in <see cref="FindProblems()"/>; options validation and the module constructors both call it.</remarks>
public sealed record CrossModalSettings
{
    /// <summary>LRCMT's defaults.</summary>
    public CrossModalSettings() { }

    /// <summary>Settings with the given values (named arguments read like the properties).</summary>
    /// <param name="Width">Model width d shared by every modality after projection.</param>
    /// <param name="Heads">Attention heads; must divide <paramref name="Width"/>.</param>
    /// <param name="Layers">Number of stacked <see cref="CrossModalBlock"/>s in a <see cref="CrossModalEncoder"/>.</param>
    /// <param name="FeedForwardMultiplier">Hidden width of the feed-forward sub-layer, as a multiple of <paramref name="Width"/> (MulT: 4).</param>
    /// <param name="AttentionDropout">Dropout on the attention weights.</param>
    /// <param name="ReluDropout">Dropout after the feed-forward activation.</param>
    /// <param name="ResidualDropout">Dropout on each sub-layer's output before it joins the residual stream.</param>
    /// <param name="EmbeddingDropout">Dropout on the scaled, position-encoded inputs of a <see cref="CrossModalEncoder"/>.</param>
    /// <param name="UsePositions">Whether a <see cref="CrossModalEncoder"/> adds sinusoidal positions to its inputs.</param>
    public CrossModalSettings(
        int Width = 50,
        int Heads = 5,
        int Layers = 5,
        int FeedForwardMultiplier = 4,
        double AttentionDropout = 0.1,
        double ReluDropout = 0.1,
        double ResidualDropout = 0.1,
        double EmbeddingDropout = 0.25,
        bool UsePositions = true)
    {
        this.Width = Width;
        this.Heads = Heads;
        this.Layers = Layers;
        this.FeedForwardMultiplier = FeedForwardMultiplier;
        this.AttentionDropout = AttentionDropout;
        this.ReluDropout = ReluDropout;
        this.ResidualDropout = ResidualDropout;
        this.EmbeddingDropout = EmbeddingDropout;
        this.UsePositions = UsePositions;
    }

    /// <summary>Model width d shared by every modality after projection.</summary>
    public int Width { get; set; } = 50;

    /// <summary>Attention heads; must divide <see cref="Width"/>.</summary>
    public int Heads { get; set; } = 5;

    /// <summary>Number of stacked <see cref="CrossModalBlock"/>s in a <see cref="CrossModalEncoder"/>.</summary>
    public int Layers { get; set; } = 5;

    /// <summary>Hidden width of the feed-forward sub-layer, as a multiple of <see cref="Width"/> (MulT: 4).</summary>
    public int FeedForwardMultiplier { get; set; } = 4;

    /// <summary>Dropout on the attention weights.</summary>
    public double AttentionDropout { get; set; } = 0.1;

    /// <summary>Dropout after the feed-forward activation.</summary>
    public double ReluDropout { get; set; } = 0.1;

    /// <summary>Dropout on each sub-layer's output before it joins the residual stream.</summary>
    public double ResidualDropout { get; set; } = 0.1;

    /// <summary>Dropout on the scaled, position-encoded inputs of a <see cref="CrossModalEncoder"/>.</summary>
    public double EmbeddingDropout { get; set; } = 0.25;

    /// <summary>Whether a <see cref="CrossModalEncoder"/> adds sinusoidal positions to its inputs.</summary>
    public bool UsePositions { get; set; } = true;

    /// <summary>
    /// Whether attention between two time-ordered streams (LRCMT's visual↔acoustic stage) adds a learnable relative-time
    /// bias: each head adds −slope·|t<sub>target</sub> − t<sub>source</sub>| to its scores, where t is a frame's time as a
    /// fraction of its clip's real (unmasked) length, so streams of different lengths (unaligned data) still match
    /// moments. Slopes start at 0 for the first head (global attention) and rise geometrically to 32 for the last, and
    /// train with the rest. Without it, "at the same time" must be learned from the sinusoidal positions, which is slow
    /// and, on small data, fragile (docs/ablation.md). Stages whose query or source is the text never use it (words have
    /// no clip time). Off by default so models saved without it load unchanged; the <c>lrcmt</c> tool turns it on.
    /// </summary>
    public bool RelativeTimeBias { get; set; }

    // Numeric-precision settings of the fusion module (e.g. a base dtype) belong here, next to the shape they qualify.

    /// <summary>Every problem with these settings (paths relative to them, e.g. <c>Heads</c>); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.FusionWidth(nameof(Width), Width),
        SettingRules.FusionCount(nameof(Heads), Heads),
        SettingRules.HeadsDivideWidth(nameof(Heads), Heads, nameof(Width), Width),
        SettingRules.FusionCount(nameof(Layers), Layers),
        SettingRules.FusionCount(nameof(FeedForwardMultiplier), FeedForwardMultiplier),
        SettingRules.Rate(nameof(AttentionDropout), AttentionDropout),
        SettingRules.Rate(nameof(ReluDropout), ReluDropout),
        SettingRules.Rate(nameof(ResidualDropout), ResidualDropout),
        SettingRules.Rate(nameof(EmbeddingDropout), EmbeddingDropout));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("cross-modal settings", FindProblems());
}
