namespace LRCMT.Data.Mmsa;

/// <summary>Where the text of an MMSA sample comes from.</summary>
public enum MmsaTextSource
{
    /// <summary>The BERT ids stored in the file (<c>text_bert</c> rows 0–2: ids, mask, segment ids), trimmed to the mask.
    /// Only valid with the tokenizer that made them (MMSA uses <c>bert-base-uncased</c>; <c>bert-base-chinese</c> for SIMS).</summary>
    TextBert,

    /// <summary>The sentence (<c>raw_text</c>), tokenized at collation time by an <see cref="TextEncoders.ITextTokenizer"/>.</summary>
    RawText,
}
