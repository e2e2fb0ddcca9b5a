using LRCMT.Fusion;

namespace LRCMT.Configuration;

/// <summary>
/// Named descriptions other than the defaults. The defaults (<c>new LrcmtOptions()</c>) are this library's best
/// measured configuration; a preset is a complete alternative, not a second set of defaults: start from one with
/// <see cref="LrcmtBuilder.FromOptions"/> (or <c>lrcmt --preset</c>) and change what you need with <c>with</c>.
/// </summary>
public static class LrcmtPresets
{
    /// <summary>
    /// The configuration the LRCMT paper describes: cross-modal encoders of width 50 with 5 heads and 5 layers,
    /// MulT's embedding dropout 0.25, and no relative-time bias (this library's addition, docs/paper-to-code.md).
    /// Everything else is as in the defaults. Models saved by releases before the defaults changed were built with it.
    /// </summary>
    public static LrcmtOptions Paper { get; } = new()
    {
        // Every fusion value spelled out, so a later change of the defaults cannot change the paper's configuration.
        Fusion = new CrossModalSettings
        {
            Width = 50, Heads = 5, Layers = 5, FeedForwardMultiplier = 4,
            AttentionDropout = 0.1, ReluDropout = 0.1, ResidualDropout = 0.1, EmbeddingDropout = 0.25,
            UsePositions = true, RelativeTimeBias = false,
        },
    };
}
