namespace LRCMT.TextEncoders.Tokenization;

/// <summary>Which end loses tokens (truncation) or gets padding, as Hugging Face's <c>direction</c> names it.</summary>
internal enum Side
{
    Right,
    Left,
}

/// <summary>Hugging Face's <c>truncation</c> for single sequences: at most <paramref name="MaxLength"/> ids, special tokens included.</summary>
internal sealed record TruncationSettings(int MaxLength, Side Direction = Side.Right);

/// <summary>
/// Hugging Face's <c>padding</c>: to the batch's longest sequence or to <paramref name="FixedLength"/>, then up to a
/// multiple of <paramref name="MultipleOf"/>, with <paramref name="PadId"/> on the <paramref name="Direction"/> side.
/// </summary>
internal sealed record PaddingSettings(int PadId, int PadTypeId = 0, Side Direction = Side.Right, int? FixedLength = null, int? MultipleOf = null);
