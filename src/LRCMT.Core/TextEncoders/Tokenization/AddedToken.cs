namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// A token matched in the text before the model sees it (Hugging Face's <c>added_tokens</c>): special tokens such as
/// <c>[CLS]</c> or <c>&lt;mask&gt;</c>, and user-added words.
/// </summary>
/// <param name="Content">The exact text matched (case-sensitive).</param>
/// <param name="Id">Its id.</param>
/// <param name="Special">A special token (kept by decoders that skip special tokens; no effect on ids).</param>
/// <param name="Normalized">Matched in the normalized text instead of the raw text.</param>
/// <param name="LeftStrip">Whitespace before a match belongs to the match.</param>
/// <param name="RightStrip">Whitespace after a match belongs to the match.</param>
internal sealed record AddedToken(string Content, int Id, bool Special, bool Normalized, bool LeftStrip = false, bool RightStrip = false);
