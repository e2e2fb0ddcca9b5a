using LRCMT.Fusion;

namespace LRCMT.Models;

/// <summary>
/// Everything that fixes the shape of an <see cref="LRCMTModel"/> besides its text encoder (plain data).
/// The defaults are LRCMT on CMU-MOSI as MMSA ships it: 5 acoustic (COVAREP) and 20 visual (Facet) features.
/// </summary>
/// <param name="AcousticFeatures">Raw acoustic feature size.</param>
/// <param name="VisualFeatures">Raw visual feature size.</param>
/// <param name="Fusion">Width, heads, layers and dropouts of every cross-modal encoder.</param>
/// <param name="Interaction">How the text meets the other modalities.</param>
/// <param name="TextAttendedByMemory">
/// Also run the reverse direction of stage 2 (the acoustic-visual memory, or each modality, attends to the text)
/// and fuse its pooled output too.
/// </param>
/// <param name="Head">Regression or classification.</param>
/// <param name="Classes">Number of classes for a classification head (ignored for regression).</param>
/// <param name="OutputDropout">Dropout inside the prediction head.</param>
/// <param name="TextKernelSize">Temporal kernel of the text projection (odd).</param>
/// <param name="AcousticKernelSize">Temporal kernel of the acoustic projection (odd).</param>
/// <param name="VisualKernelSize">Temporal kernel of the visual projection (odd).</param>
public sealed record LrcmtArchitecture(
    int AcousticFeatures = 5,
    int VisualFeatures = 20,
    CrossModalSettings? Fusion = null,
    InteractionMode Interaction = InteractionMode.AcousticVisualFirst,
    bool TextAttendedByMemory = false,
    HeadKind Head = HeadKind.Regression,
    int Classes = 2,
    double OutputDropout = 0.1,
    int TextKernelSize = 1,
    int AcousticKernelSize = 1,
    int VisualKernelSize = 1)
{
    /// <summary>The cross-modal settings in effect (<see cref="Fusion"/> or the defaults).</summary>
    public CrossModalSettings FusionSettings => Fusion ?? new CrossModalSettings();

    /// <summary>Number of values the head emits per sample.</summary>
    public int Outputs => Head == HeadKind.Regression ? 1 : Classes;

    /// <summary>Every problem with this architecture, one sentence each; empty when it is usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(FusionSettings.Problems());
        if (AcousticFeatures < 1) problems.Add($"AcousticFeatures must be at least 1 (got {AcousticFeatures}).");
        if (VisualFeatures < 1) problems.Add($"VisualFeatures must be at least 1 (got {VisualFeatures}).");
        if (Head == HeadKind.Classification && Classes < 2) problems.Add($"A classification head needs at least 2 classes (got {Classes}).");
        if (!(OutputDropout >= 0 && OutputDropout < 1)) problems.Add($"OutputDropout must be in [0, 1) (got {OutputDropout}).");
        CheckKernel("TextKernelSize", TextKernelSize, problems);
        CheckKernel("AcousticKernelSize", AcousticKernelSize, problems);
        CheckKernel("VisualKernelSize", VisualKernelSize, problems);
        if (Interaction == InteractionMode.TextOnly && TextAttendedByMemory)
            problems.Add("TextAttendedByMemory needs acoustic and visual inputs, but the interaction is TextOnly.");
        return problems;
    }

    private static void CheckKernel(string name, int size, List<string> problems)
    {
        if (size < 1 || size % 2 == 0) problems.Add($"{name} must be a positive odd number (got {size}).");
    }
}
