using LRCMT.Errors;

namespace LRCMT.Configuration;

/// <summary>Raw feature sizes of the non-verbal inputs and the temporal kernels of the projections (defaults: CMU-MOSI in MMSA).</summary>
public sealed record ModalityOptions
{
    /// <summary>Acoustic feature size (CMU-MOSI COVAREP in MMSA: 5).</summary>
    public int AcousticFeatures { get; init; } = 5;

    /// <summary>Visual feature size (CMU-MOSI Facet in MMSA: 20).</summary>
    public int VisualFeatures { get; init; } = 20;

    /// <summary>Temporal kernel of the text projection (odd; 1 = per token).</summary>
    public int TextKernelSize { get; init; } = 1;

    /// <summary>Temporal kernel of the acoustic projection (odd; 1 = per frame).</summary>
    public int AcousticKernelSize { get; init; } = 1;

    /// <summary>Temporal kernel of the visual projection (odd; 1 = per frame).</summary>
    public int VisualKernelSize { get; init; } = 1;

    /// <summary>Every problem of these settings (paths relative to them); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.AtLeast(nameof(AcousticFeatures), AcousticFeatures, 1),
        SettingRules.AtLeast(nameof(VisualFeatures), VisualFeatures, 1),
        SettingRules.OddKernel(nameof(TextKernelSize), TextKernelSize),
        SettingRules.OddKernel(nameof(AcousticKernelSize), AcousticKernelSize),
        SettingRules.OddKernel(nameof(VisualKernelSize), VisualKernelSize));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("modality options", FindProblems());
}
