using LRCMT.Errors;
using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>How the text meets the acoustic and visual sequences (the interaction ablations).</summary>
public sealed record InteractionOptions
{
    /// <summary>LRCMT's acoustic-visual-first interaction (default), the MulT-like direct one, or text only.</summary>
    public InteractionMode Mode { get; init; } = InteractionMode.AcousticVisualFirst;

    /// <summary>Also let the acoustic-visual memory (or each modality) attend to the text and fuse that too.</summary>
    public bool TextAttendedByMemory { get; init; }

    /// <summary>Every problem of these settings (paths relative to them); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.Defined(nameof(Mode), Mode),
        Mode == InteractionMode.TextOnly && TextAttendedByMemory
            ? new SettingProblem(nameof(TextAttendedByMemory), "needs acoustic and visual inputs, but Mode is TextOnly")
            : null);

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("interaction options", FindProblems());
}
