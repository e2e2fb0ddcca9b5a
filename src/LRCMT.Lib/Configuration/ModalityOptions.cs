using System.ComponentModel.DataAnnotations;

namespace LRCMT.Configuration;

/// <summary>Raw feature sizes of the non-verbal inputs and the temporal kernels of the projections (defaults: CMU-MOSI in MMSA).</summary>
public sealed record ModalityOptions
{
    /// <summary>Acoustic feature size (CMU-MOSI COVAREP in MMSA: 5).</summary>
    [Range(1, 100_000)]
    public int AcousticFeatures { get; set; } = 5;

    /// <summary>Visual feature size (CMU-MOSI Facet in MMSA: 20).</summary>
    [Range(1, 100_000)]
    public int VisualFeatures { get; set; } = 20;

    /// <summary>Temporal kernel of the text projection (odd; 1 = per token).</summary>
    [Range(1, 31)]
    public int TextKernelSize { get; set; } = 1;

    /// <summary>Temporal kernel of the acoustic projection (odd; 1 = per frame).</summary>
    [Range(1, 31)]
    public int AcousticKernelSize { get; set; } = 1;

    /// <summary>Temporal kernel of the visual projection (odd; 1 = per frame).</summary>
    [Range(1, 31)]
    public int VisualKernelSize { get; set; } = 1;
}
