namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Hugging Face's tokenizer pipeline for single sequences: added tokens matched in the raw text, then normalizer,
/// added tokens matched in the normalized text, pre-tokenizer, model; then truncation (room kept for the special
/// tokens), the special-token template, and padding of a batch. When no added token is matched in normalized text (the
/// usual case), a BERT normalizer runs inside the pre-tokenizer's single pass instead of building a normalized copy.
/// </summary>
internal sealed class TokenizerPipeline
{
    private readonly ITextNormalizer? normalizer;
    private readonly IPreTokenizer preTokenizer;
    private readonly ITokenModel model;
    private readonly SpecialTokenTemplate template;
    private readonly TruncationSettings? truncation;
    private readonly AddedTokenSplitter rawTokens;
    private readonly AddedTokenSplitter normalizedTokens;
    private readonly Dictionary<int, string> addedById;

    [ThreadStatic]
    private static Scratch? scratch;

    public TokenizerPipeline(
        ITextNormalizer? normalizer,
        IPreTokenizer preTokenizer,
        ITokenModel model,
        IReadOnlyList<AddedToken> addedTokens,
        SpecialTokenTemplate template,
        TruncationSettings? truncation,
        PaddingSettings padding)
    {
        rawTokens = new AddedTokenSplitter(addedTokens.Where(t => !t.Normalized));
        normalizedTokens = new AddedTokenSplitter(addedTokens.Where(t => t.Normalized));
        addedById = addedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.Last().Content);
        if (normalizer is BertNormalizer bert && preTokenizer is BertPreTokenizer && normalizedTokens.IsEmpty)
        {
            normalizer = null;
            preTokenizer = new BertPreTokenizer(bert);
        }

        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.template = template;
        this.truncation = truncation;
        Padding = padding;
        VocabularySize = Math.Max(model.VocabularySize, addedTokens.Count == 0 ? 0 : addedTokens.Max(t => t.Id) + 1);
    }

    public ITokenModel Model => model;

    public PaddingSettings Padding { get; }

    /// <summary>Largest id plus one over the model's vocabulary and the added tokens.</summary>
    public int VocabularySize { get; }

    /// <summary>The token string of an id: an added token's content first (as Hugging Face looks it up), else the model's.</summary>
    public string? IdToToken(int id) => addedById.TryGetValue(id, out var content) ? content : model.IdToToken(id);

    /// <summary>The ids of <paramref name="text"/> without special tokens, truncation or padding, appended to <paramref name="ids"/>.</summary>
    public void EncodeWithoutSpecialTokens(ReadOnlySpan<char> text, List<int> ids)
    {
        if (rawTokens.IsEmpty)
        {
            EncodeSegment(text, ids);
            return;
        }

        var work = scratch ??= new Scratch();
        var segments = work.RawSegments;
        segments.Clear();
        rawTokens.Split(text, segments);
        foreach (var (start, length, id) in segments)
        {
            if (id is { } tokenId) ids.Add(tokenId);
            else EncodeSegment(text.Slice(start, length), ids);
        }
    }

    private void EncodeSegment(ReadOnlySpan<char> segment, List<int> ids)
    {
        if (normalizer is null)
        {
            preTokenizer.Tokenize(segment, model, ids);
            return;
        }

        var normalized = normalizer.Normalize(segment.ToString());
        var pieces = new List<(int Start, int Length, int? Id)>();
        normalizedTokens.Split(normalized, pieces);
        foreach (var (start, length, id) in pieces)
        {
            if (id is { } addedId) ids.Add(addedId);
            else preTokenizer.Tokenize(normalized.AsSpan(start, length), model, ids);
        }
    }

    /// <summary>The ids of one sequence with the special tokens, cut to <paramref name="maxLength"/> ids in all.</summary>
    public int[] EncodeIds(string text, int maxLength)
    {
        var work = scratch ??= new Scratch();
        work.Content.Clear();
        work.Row.Clear();
        EncodeWithoutSpecialTokens(text, work.Content);
        Build(work.Content, maxLength, work.Row);
        return [.. work.Row];
    }

    /// <summary>Encodes each text and pads them into [batch, seq] ids, mask and type ids.</summary>
    /// <exception cref="ArgumentException">The padded batch would hold more values than an array can.</exception>
    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength)
    {
        var work = scratch ??= new Scratch();
        var rows = new int[texts.Count][];
        var longest = 0;
        for (var row = 0; row < texts.Count; row++)
        {
            work.Content.Clear();
            work.Row.Clear();
            EncodeWithoutSpecialTokens(texts[row], work.Content);
            Build(work.Content, maxLength, work.Row);
            rows[row] = [.. work.Row];
            longest = Math.Max(longest, rows[row].Length);
        }

        long length = Math.Max(Padding.FixedLength ?? 0, longest);
        if (Padding.MultipleOf is > 0 and var multiple && length % multiple != 0) length += multiple - length % multiple;
        if (length * texts.Count > Array.MaxLength)
            throw new ArgumentException($"{texts.Count} texts padded to {length} tokens hold more ids than an array can; encode them in smaller batches.", nameof(texts));

        var width = (int)length;
        var ids = new long[texts.Count * width];
        var mask = new long[texts.Count * width];
        var types = new long[texts.Count * width];
        if (Padding.PadId != 0) Array.Fill(ids, Padding.PadId);
        if (Padding.PadTypeId != 0) Array.Fill(types, Padding.PadTypeId);
        for (var row = 0; row < rows.Length; row++)
        {
            var rowIds = rows[row];
            var offset = row * width + (Padding.Direction == Side.Left ? width - rowIds.Length : 0);
            var contentEnd = rowIds.Length - template.Suffix.Length;
            for (var column = 0; column < rowIds.Length; column++)
            {
                ids[offset + column] = rowIds[column];
                mask[offset + column] = 1;
                types[offset + column] = column < template.Prefix.Length ? template.PrefixTypeIds[column]
                    : column < contentEnd ? template.SequenceTypeId : template.SuffixTypeIds[column - contentEnd];
            }
        }

        return new EncodedBatch(ids, mask, types, texts.Count, width);
    }

    // Truncates content (room kept for the special tokens) and writes prefix + content + suffix; returns the count.
    private int Build(List<int> content, int maxLength, List<int> output)
    {
        var limit = Math.Min(maxLength, truncation?.MaxLength ?? int.MaxValue);
        var room = Math.Max(0, limit - template.Count);
        var skip = 0;
        var take = content.Count;
        if (content.Count > room)
        {
            take = room;
            if (truncation?.Direction == Side.Left) skip = content.Count - room;
        }

        output.AddRange(template.Prefix);
        for (var k = skip; k < skip + take; k++) output.Add(content[k]);
        output.AddRange(template.Suffix);
        return output.Count;
    }

    /// <summary>Buffers one thread reuses across calls.</summary>
    private sealed class Scratch
    {
        public List<(int Start, int Length, int? Id)> RawSegments { get; } = new();

        public List<int> Content { get; } = new(512);

        public List<int> Row { get; } = new(512);
    }
}
