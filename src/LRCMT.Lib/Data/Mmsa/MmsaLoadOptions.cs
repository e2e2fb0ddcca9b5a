namespace LRCMT.Data.Mmsa;

/// <summary>How <see cref="MmsaFeatureFile.Load"/> turns an MMSA feature pickle into samples.</summary>
public sealed record MmsaLoadOptions
{
    /// <summary>Text from <c>text_bert</c> ids (default) or from <c>raw_text</c>.</summary>
    public MmsaTextSource TextSource { get; init; } = MmsaTextSource.TextBert;

    /// <summary>
    /// True (default): cut each acoustic/visual sequence to its <c>audio_lengths</c>/<c>vision_lengths</c> entry, so
    /// collation masks the padding. False: keep every frame as MMSA does for aligned data.
    /// Files without length arrays always keep every frame.
    /// </summary>
    public bool TrimToLengths { get; init; } = true;
}
