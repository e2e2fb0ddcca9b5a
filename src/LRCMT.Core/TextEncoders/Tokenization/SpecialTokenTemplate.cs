namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// What the post-processor puts around one sequence (Hugging Face's <c>TemplateProcessing</c> single template,
/// <c>BertProcessing</c> or <c>RobertaProcessing</c>): ids before and after it, and the type id of each part.
/// </summary>
internal sealed record SpecialTokenTemplate(int[] Prefix, int[] Suffix, int[] PrefixTypeIds, int[] SuffixTypeIds, int SequenceTypeId)
{
    public int Count => Prefix.Length + Suffix.Length;

    /// <summary><c>first $A last</c> with every type id 0: BERT's <c>[CLS] … [SEP]</c>, RoBERTa's <c>&lt;s&gt; … &lt;/s&gt;</c>.</summary>
    public static SpecialTokenTemplate Around(int first, int last) => new([first], [last], [0], [0], 0);
}
