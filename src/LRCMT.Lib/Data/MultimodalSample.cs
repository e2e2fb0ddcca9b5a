namespace LRCMT.Data;

/// <summary>
/// One utterance with its three modalities, before batching. Sequences are [time, features] and may have
/// different lengths per modality (unaligned data); <see cref="MultimodalBatch"/> is the padded tensor form.
/// </summary>
/// <param name="Id">Identifier (MMSA uses "video$_$clip").</param>
/// <param name="Text">The raw sentence (tokenized at collation time), or null when <paramref name="TokenIds"/> is given.</param>
/// <param name="TokenIds">Pre-tokenized ids including special tokens (e.g. MMSA's <c>text_bert</c>), or null.</param>
/// <param name="Acoustic">Acoustic frames [acousticLen, acousticDim].</param>
/// <param name="Visual">Visual frames [visualLen, visualDim].</param>
/// <param name="Label">Sentiment score (regression target, e.g. in [-3, 3]).</param>
public sealed record MultimodalSample(
    string Id,
    string? Text,
    long[]? TokenIds,
    float[,] Acoustic,
    float[,] Visual,
    float Label)
{
    /// <summary>Segment ids matching <see cref="TokenIds"/> (e.g. row 2 of MMSA's <c>text_bert</c>), or null for all zeros.</summary>
    public long[]? TokenTypeIds { get; init; }
}
