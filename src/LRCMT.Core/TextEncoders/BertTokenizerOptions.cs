namespace LRCMT.TextEncoders;

/// <summary>
/// How a BERT vocabulary's text is normalized, as Hugging Face's <c>BertTokenizerFast</c> arguments (and
/// <c>tokenizer_config.json</c> keys) name it. The defaults are an uncased model's.
/// </summary>
public sealed record BertTokenizerOptions
{
    /// <summary>Lower-case the text (<c>do_lower_case</c>); true for uncased models, false for cased ones and <c>bert-base-chinese</c>.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Remove accents by decomposing and dropping non-spacing marks (<c>strip_accents</c>); null means "as <see cref="Lowercase"/>".</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Make every CJK ideograph a word of its own (<c>tokenize_chinese_chars</c>).</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Remove control characters and turn every whitespace into a space (BertNormalizer's <c>clean_text</c>).</summary>
    public bool CleanText { get; init; } = true;
}
