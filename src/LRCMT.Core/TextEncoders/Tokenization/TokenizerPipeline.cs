namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's tokenizer pipeline for single sequences: added tokens matched in the raw text, then normalizer,
/// added tokens matched in the normalized text, pre-tokenizer, model; then truncation (room kept for the special
/// tokens), the special-token template, and padding of a batch.
/// </summary>
internal sealed class TokenizerPipeline(
    ITextNormalizer? normalizer,
    IPreTokenizer preTokenizer,
    ITokenModel model,
    IReadOnlyList<AddedToken> addedTokens,
    SpecialTokenTemplate template,
    TruncationSettings? truncation,
    PaddingSettings padding)
{
    private readonly AddedTokenSplitter rawTokens = new(addedTokens.Where(t => !t.Normalized));
    private readonly AddedTokenSplitter normalizedTokens = new(addedTokens.Where(t => t.Normalized));

    public ITokenModel Model => model;

    public PaddingSettings Padding => padding;

    /// <summary>Largest id plus one over the model's vocabulary and the added tokens.</summary>
    public int VocabularySize { get; } = Math.Max(model.VocabularySize, addedTokens.Count == 0 ? 0 : addedTokens.Max(t => t.Id) + 1);

    /// <summary>The ids of <paramref name="text"/> without special tokens, truncation or padding.</summary>
    public List<int> EncodeWithoutSpecialTokens(string text)
    {
        var ids = new List<int>();
        var raw = new List<(string? Text, int? Id)>();
        var normalized = new List<(string? Text, int? Id)>();
        var words = new List<string>();
        rawTokens.Split(text, raw);
        foreach (var (segment, id) in raw)
        {
            if (id is { } tokenId)
            {
                ids.Add(tokenId);
                continue;
            }

            normalized.Clear();
            normalizedTokens.Split(normalizer?.Normalize(segment!) ?? segment!, normalized);
            foreach (var (piece, pieceId) in normalized)
            {
                if (pieceId is { } addedId)
                {
                    ids.Add(addedId);
                    continue;
                }

                words.Clear();
                preTokenizer.Split(piece!, words);
                foreach (var word in words) model.Tokenize(word, ids);
            }
        }

        return ids;
    }

    /// <summary>The ids of one sequence with the special tokens, cut to <paramref name="maxLength"/> ids in all.</summary>
    public (List<int> Ids, List<int> TypeIds) Encode(string text, int maxLength)
    {
        var limit = Math.Min(maxLength, truncation?.MaxLength ?? int.MaxValue);
        var content = EncodeWithoutSpecialTokens(text);
        var room = Math.Max(0, limit - template.Count);
        if (content.Count > room)
        {
            if (truncation?.Direction == Side.Left) content.RemoveRange(0, content.Count - room);
            else content.RemoveRange(room, content.Count - room);
        }

        var ids = new List<int>(content.Count + template.Count);
        var types = new List<int>(content.Count + template.Count);
        ids.AddRange(template.Prefix);
        types.AddRange(template.PrefixTypeIds);
        ids.AddRange(content);
        types.AddRange(Enumerable.Repeat(template.SequenceTypeId, content.Count));
        ids.AddRange(template.Suffix);
        types.AddRange(template.SuffixTypeIds);
        return (ids, types);
    }

    /// <summary>Encodes each text and pads them into [batch, seq] ids, mask and type ids.</summary>
    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength)
    {
        var encoded = texts.Select(t => Encode(t, maxLength)).ToList();
        var length = padding.FixedLength ?? encoded.Max(e => e.Ids.Count);
        length = Math.Max(length, encoded.Max(e => e.Ids.Count));
        if (padding.MultipleOf is > 0 and var multiple && length % multiple != 0) length += multiple - length % multiple;

        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        var types = new long[texts.Count * length];
        Array.Fill(ids, padding.PadId);
        Array.Fill(types, padding.PadTypeId);
        for (var row = 0; row < encoded.Count; row++)
        {
            var (rowIds, rowTypes) = encoded[row];
            var offset = row * length + (padding.Direction == Side.Left ? length - rowIds.Count : 0);
            for (var column = 0; column < rowIds.Count; column++)
            {
                ids[offset + column] = rowIds[column];
                types[offset + column] = rowTypes[column];
                mask[offset + column] = 1;
            }
        }

        return new EncodedBatch(ids, mask, types, texts.Count, length);
    }
}
