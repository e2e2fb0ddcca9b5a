namespace LRCMT.Models;

/// <summary>How the text meets the acoustic and visual sequences (the interaction ablations).</summary>
public enum InteractionMode
{
    /// <summary>
    /// LRCMT: acoustic and visual attend to each other first (stage 1), then the text attends to the joint
    /// acoustic-visual memory (stage 2).
    /// </summary>
    AcousticVisualFirst,

    /// <summary>No stage 1: the text attends to each modality directly, as in MulT.</summary>
    TextToEachModality,

    /// <summary>Text only: acoustic and visual inputs are validated but ignored; no parameters are created for them.</summary>
    TextOnly,
}
