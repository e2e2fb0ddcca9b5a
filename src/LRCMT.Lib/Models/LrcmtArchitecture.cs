using LRCMT.Configuration;
using System.Text.Json.Serialization;
using LRCMT.Errors;
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
    [JsonIgnore]
    public CrossModalSettings FusionSettings => Fusion ?? new CrossModalSettings();

    /// <summary>Number of values the head emits per sample.</summary>
    [JsonIgnore]
    public int Outputs => Head == HeadKind.Regression ? 1 : Classes;

    /// <summary>
    /// Every problem with this architecture, one sentence each; empty when it is usable. This is the one place the
    /// model-level rules live (odd kernels, a classification head's classes, TextOnly without the reverse direction);
    /// options validation and the model constructor both call it.
    /// </summary>
    public IReadOnlyList<SettingProblem> Problems()
    {
        var problems = new List<SettingProblem>(FusionSettings.FindProblems().Select(p => p.Within("Fusion")));
        problems.AddRange(SettingRules.Collect(
            SettingRules.Defined(nameof(Interaction), Interaction),
            SettingRules.Defined(nameof(Head), Head),
            SettingRules.AtLeast(nameof(AcousticFeatures), AcousticFeatures, 1),
            SettingRules.AtLeast(nameof(VisualFeatures), VisualFeatures, 1),
            Head == HeadKind.Classification ? SettingRules.AtLeast(nameof(Classes), Classes, 2) : null,
            SettingRules.Rate(nameof(OutputDropout), OutputDropout),
            SettingRules.OddKernel(nameof(TextKernelSize), TextKernelSize),
            SettingRules.OddKernel(nameof(AcousticKernelSize), AcousticKernelSize),
            SettingRules.OddKernel(nameof(VisualKernelSize), VisualKernelSize)));
        if (Interaction == InteractionMode.TextOnly && TextAttendedByMemory)
            problems.Add(new(nameof(TextAttendedByMemory), "needs acoustic and visual inputs, but the interaction is TextOnly"));
        return problems;
    }
}
