using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// Shape and regularisation of <see cref="MulTFusion"/> (Tsai et al., 2019). The defaults are the published code's:
/// width 30, 5 heads, 5 layers per cross-modal transformer, self-attention stacks of max(layers, 3) layers, attention
/// dropout 0.1 where the text is the source and 0 where the acoustic or visual stream is, ReLU and residual dropout 0.1,
/// embedding dropout 0.25, no output dropout, per-frame (kernel 1) projections.
/// </summary>
public sealed record MulTSettings
{
    /// <summary>
    /// The six cross-modal transformers (width d, heads, layers, feed-forward multiplier, dropouts, positions). Their
    /// <see cref="CrossModalSettings.AttentionDropout"/> applies where the text is the source, and in the self-attention
    /// stacks. <see cref="CrossModalSettings.RelativeTimeBias"/> (this library's addition, off by default here) applies
    /// to the acoustic↔visual pairs only, as in LRCMT: words have no clip time.
    /// </summary>
    public CrossModalSettings CrossModal { get; init; } = new()
    {
        Width = 30, Heads = 5, Layers = 5, FeedForwardMultiplier = 4,
        AttentionDropout = 0.1, ReluDropout = 0.1, ResidualDropout = 0.1, EmbeddingDropout = 0.25,
        UsePositions = true, RelativeTimeBias = false,
    };

    /// <summary>Attention dropout of the cross-modal transformers whose source is the acoustic stream (MulT's <c>attn_dropout_a</c>).</summary>
    public double AcousticAttentionDropout { get; init; }

    /// <summary>Attention dropout of the cross-modal transformers whose source is the visual stream (MulT's <c>attn_dropout_v</c>).</summary>
    public double VisualAttentionDropout { get; init; }

    /// <summary>
    /// Layers of each per-target self-attention stack (width 2d); null = max(<see cref="CrossModalSettings.Layers"/>, 3),
    /// as the published code builds them.
    /// </summary>
    public int? SelfAttentionLayers { get; init; }

    /// <summary>Temporal kernel of the text projection (odd; MulT: 1).</summary>
    public int TextKernelSize { get; init; } = 1;

    /// <summary>Temporal kernel of the acoustic projection (odd; MulT: 1).</summary>
    public int AcousticKernelSize { get; init; } = 1;

    /// <summary>Temporal kernel of the visual projection (odd; MulT: 1).</summary>
    public int VisualKernelSize { get; init; } = 1;

    /// <summary>Dropout inside the residual output block (MulT's <c>out_dropout</c>).</summary>
    public double OutputDropout { get; init; }

    /// <summary>The self-attention depth in effect (<see cref="SelfAttentionLayers"/> or the published rule).</summary>
    public int EffectiveSelfAttentionLayers => SelfAttentionLayers ?? Math.Max(CrossModal?.Layers ?? 0, 3);

    /// <summary>Every problem with these settings (paths relative to them, e.g. <c>CrossModal.Heads</c>); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        if (CrossModal is null) return [new SettingProblem(nameof(CrossModal), "is required")];
        return [.. CrossModal.FindProblems().Select(p => p.Within(nameof(CrossModal))), .. SettingRules.Collect(
            SettingRules.Rate(nameof(AcousticAttentionDropout), AcousticAttentionDropout),
            SettingRules.Rate(nameof(VisualAttentionDropout), VisualAttentionDropout),
            SelfAttentionLayers is { } layers ? SettingRules.FusionCount(nameof(SelfAttentionLayers), layers) : null,
            SettingRules.OddKernel(nameof(TextKernelSize), TextKernelSize),
            SettingRules.OddKernel(nameof(AcousticKernelSize), AcousticKernelSize),
            SettingRules.OddKernel(nameof(VisualKernelSize), VisualKernelSize),
            SettingRules.Rate(nameof(OutputDropout), OutputDropout))];
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("MulT settings", FindProblems());
}
