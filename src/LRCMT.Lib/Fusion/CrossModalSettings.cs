namespace LRCMT.Fusion;

/// <summary>
/// Shape and regularisation of a cross-modal transformer (plain data). The defaults (width 50, 5 heads, 5 layers,
/// MulT's dropouts) are LRCMT's: on bert-base with LoRA r=8 they keep the trainable share near 0.73%.
/// </summary>
/// <param name="Width">Model width d shared by every modality after projection.</param>
/// <param name="Heads">Attention heads; must divide <paramref name="Width"/>.</param>
/// <param name="Layers">Number of stacked <see cref="CrossModalBlock"/>s in a <see cref="CrossModalEncoder"/>.</param>
/// <param name="FeedForwardMultiplier">Hidden width of the feed-forward sub-layer, as a multiple of <paramref name="Width"/> (MulT: 4).</param>
/// <param name="AttentionDropout">Dropout on the attention weights.</param>
/// <param name="ReluDropout">Dropout after the feed-forward activation.</param>
/// <param name="ResidualDropout">Dropout on each sub-layer's output before it joins the residual stream.</param>
/// <param name="EmbeddingDropout">Dropout on the scaled, position-encoded inputs of a <see cref="CrossModalEncoder"/>.</param>
/// <param name="UsePositions">Whether a <see cref="CrossModalEncoder"/> adds sinusoidal positions to its inputs.</param>
public sealed record CrossModalSettings(
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
    /// <summary>Every problem with these settings, one sentence each; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Width < 1) problems.Add($"Width must be at least 1 (got {Width}).");
        if (Heads < 1) problems.Add($"Heads must be at least 1 (got {Heads}).");
        else if (Width >= 1 && Width % Heads != 0) problems.Add($"Width ({Width}) must be divisible by Heads ({Heads}).");
        if (Layers < 1) problems.Add($"Layers must be at least 1 (got {Layers}).");
        if (FeedForwardMultiplier < 1) problems.Add($"FeedForwardMultiplier must be at least 1 (got {FeedForwardMultiplier}).");
        CheckRate(nameof(AttentionDropout), AttentionDropout, problems);
        CheckRate(nameof(ReluDropout), ReluDropout, problems);
        CheckRate(nameof(ResidualDropout), ResidualDropout, problems);
        CheckRate(nameof(EmbeddingDropout), EmbeddingDropout, problems);
        return problems;
    }

    /// <summary>Throws <see cref="Errors.InvalidConfigurationException"/> listing every problem, if any.</summary>
    public void EnsureValid()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new Errors.InvalidConfigurationException("cross-modal settings", problems);
    }

    private static void CheckRate(string name, double rate, List<string> problems)
    {
        if (!(rate >= 0 && rate < 1)) problems.Add($"{name} must be in [0, 1) (got {rate}).");
    }
}
