using System.ComponentModel.DataAnnotations;
using LRCMT.Fusion;

namespace LRCMT.Configuration;

/// <summary>
/// Shape of every cross-modal encoder. The defaults (width 50, 5 heads, 5 layers as in MulT's CMU-MOSI setup)
/// keep LRCMT on bert-base with LoRA r=8 on query/value at about 0.73% trainable parameters.
/// </summary>
public sealed record FusionOptions
{
    /// <summary>Shared width d of all modalities inside the fusion module.</summary>
    [Range(1, 4096)]
    public int Width { get; set; } = 50;

    /// <summary>Attention heads; must divide <see cref="Width"/>.</summary>
    [Range(1, 256)]
    public int Heads { get; set; } = 5;

    /// <summary>Layers per cross-modal encoder.</summary>
    [Range(1, 64)]
    public int Layers { get; set; } = 5;

    /// <summary>Feed-forward hidden width as a multiple of <see cref="Width"/>.</summary>
    [Range(1, 16)]
    public int FeedForwardMultiplier { get; set; } = 4;

    /// <summary>Dropout on attention weights.</summary>
    [Range(0.0, 0.99)]
    public double AttentionDropout { get; set; } = 0.1;

    /// <summary>Dropout after the feed-forward activation.</summary>
    [Range(0.0, 0.99)]
    public double ReluDropout { get; set; } = 0.1;

    /// <summary>Dropout on sub-layer outputs before the residual sum.</summary>
    [Range(0.0, 0.99)]
    public double ResidualDropout { get; set; } = 0.1;

    /// <summary>Dropout on the scaled, position-encoded encoder inputs.</summary>
    [Range(0.0, 0.99)]
    public double EmbeddingDropout { get; set; } = 0.25;

    /// <summary>Whether sinusoidal positions are added to the encoder inputs.</summary>
    public bool UsePositions { get; set; } = true;

    internal CrossModalSettings ToSettings() => new(
        Width, Heads, Layers, FeedForwardMultiplier, AttentionDropout, ReluDropout, ResidualDropout, EmbeddingDropout, UsePositions);
}
