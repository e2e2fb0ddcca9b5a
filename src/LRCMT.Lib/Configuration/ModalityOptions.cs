
namespace LRCMT.Configuration;

/// <summary>Raw feature sizes of the non-verbal inputs and the temporal kernels of the projections (defaults: CMU-MOSI in MMSA).</summary>
/// <remarks>The rules (sizes at least 1, odd kernels) are checked once, by the model architecture these options describe.</remarks>
public sealed record ModalityOptions
{
    /// <summary>Acoustic feature size (CMU-MOSI COVAREP in MMSA: 5).</summary>
    public int AcousticFeatures { get; set; } = 5;

    /// <summary>Visual feature size (CMU-MOSI Facet in MMSA: 20).</summary>
    public int VisualFeatures { get; set; } = 20;

    /// <summary>Temporal kernel of the text projection (odd; 1 = per token).</summary>
    public int TextKernelSize { get; set; } = 1;

    /// <summary>Temporal kernel of the acoustic projection (odd; 1 = per frame).</summary>
    public int AcousticKernelSize { get; set; } = 1;

    /// <summary>Temporal kernel of the visual projection (odd; 1 = per frame).</summary>
    public int VisualKernelSize { get; set; } = 1;
}
