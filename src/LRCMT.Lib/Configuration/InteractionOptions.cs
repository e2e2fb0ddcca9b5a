using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>How the text meets the acoustic and visual sequences (the interaction ablations).</summary>
public sealed record InteractionOptions
{
    /// <summary>LRCMT's acoustic-visual-first interaction (default), the MulT-like direct one, or text only.</summary>
    public InteractionMode Mode { get; set; } = InteractionMode.AcousticVisualFirst;

    /// <summary>Also let the acoustic-visual memory (or each modality) attend to the text and fuse that too.</summary>
    public bool TextAttendedByMemory { get; set; }
}
