namespace LRCMT.Data.Synthetic;

/// <summary>
/// Which visual/acoustic cue a controlled-benchmark sample carries. Only <see cref="CoOccurring"/> flips the
/// label; every other kind is either plain or a decoy that a model must learn to ignore.
/// </summary>
public enum CueKind
{
    /// <summary>No visual or acoustic event: the label follows the text.</summary>
    None,

    /// <summary>A visual and an acoustic event at the same time: the speaker means the opposite (label = −p).</summary>
    CoOccurring,

    /// <summary>Decoy: a visual and an acoustic event, at clearly different times. No flip.</summary>
    DecoyApart,

    /// <summary>Decoy: only a visual event. No flip.</summary>
    DecoyVisualOnly,

    /// <summary>Decoy: only an acoustic event. No flip.</summary>
    DecoyAcousticOnly,
}
