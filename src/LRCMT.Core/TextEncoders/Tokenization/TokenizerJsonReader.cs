using System.Text.Json;
using LRCMT.Errors;
using LRCMT.IO;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Reads Hugging Face's <c>tokenizer.json</c> into a <see cref="TokenizerPipeline"/>: BERT (BertNormalizer,
/// BertPreTokenizer, WordPiece) and byte-level BPE (ByteLevel, BPE) pipelines, their post-processor, truncation, padding
/// and added tokens. Anything else is refused with <see cref="UnsupportedTokenizerException"/>, never approximated.
/// The file is validated like a weights file: every id (vocabulary, added tokens, template, padding) inside the
/// vocabulary and unique where it must be, type ids and lengths bounded (<see cref="TokenizerLimits"/>), each problem a
/// <see cref="CorruptFileException"/> naming its JSON path.
/// </summary>
internal static class TokenizerJsonReader
{
    /// <summary>Reads a <c>tokenizer.json</c> file whose model must be a <typeparamref name="TModel"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="otherKindHint">What to say when the file holds another kind of model (which class loads it).</param>
    public static TokenizerPipeline ReadFile<TModel>(string path, string otherKindHint)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var pipeline = Read(InputFile.ReadAllUtf8(path, InputKind.TokenizerJson), path);
        return pipeline.Model is TModel ? pipeline : throw new UnsupportedTokenizerException(path, otherKindHint);
    }

    public static TokenizerPipeline Read(ReadOnlyMemory<byte> json, string source)
    {
        using var document = JsonFields.Parse(json, source);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new CorruptFileException(source, null, "a tokenizer.json must be a JSON object.");
        var root = new JsonFields(document.RootElement, source, "tokenizer");
        var model = root.Object("model");
        var modelType = model.OptionalString("type") ?? (model.Get("merges") is not null ? "BPE" : "WordPiece");
        var (normalizer, preTokenizer, tokenModel) = modelType switch
        {
            "WordPiece" => ((ITextNormalizer?)ReadBertNormalizer(root), ReadBertPreTokenizer(root), (ITokenModel)ReadWordPiece(model)),
            "BPE" => ReadByteLevelBpe(root, model),
            _ => throw model.Unsupported($"model type '{modelType}' is not supported; WordPiece (BERT) and byte-level BPE (RoBERTa) are."),
        };
        var addedTokens = ReadAddedTokens(root, tokenModel);
        var vocabularySize = Math.Max(tokenModel.VocabularySize, addedTokens.Count == 0 ? 0 : addedTokens.Max(t => t.Id) + 1);
        var template = ReadPostProcessor(root, vocabularySize);
        var truncation = ReadTruncation(root);
        var padding = ReadPadding(root, tokenModel, addedTokens, vocabularySize);
        return new TokenizerPipeline(normalizer, preTokenizer, tokenModel, addedTokens, template, truncation, padding);
    }

    /// <summary>
    /// The added tokens, each id checked against the one Hugging Face gives it when it loads the file: the id of an
    /// earlier added token or vocabulary entry with the same text, otherwise the next id after the vocabulary and the
    /// added tokens so far. A file whose ids differ would make this library and Hugging Face disagree, so it is refused.
    /// </summary>
    private static List<AddedToken> ReadAddedTokens(JsonFields root, ITokenModel model)
    {
        var tokens = new List<AddedToken>();
        var assigned = new Dictionary<string, int>(StringComparer.Ordinal);
        long characters = 0;
        var entries = root.Array("added_tokens");
        if (entries.Count > TokenizerLimits.MaxVocabularySize)
            throw root.Wrong("added_tokens", $"at most {TokenizerLimits.MaxVocabularySize} tokens");
        foreach (var token in entries)
        {
            var content = token.String("content");
            characters += content.Length;
            if (characters > TokenizerLimits.MaxAddedTokenCharacters)
                throw new CorruptFileException(root.Source, null, $"'{token.Where}': the added tokens hold more than the {TokenizerLimits.MaxAddedTokenCharacters} characters added tokens may hold in all.");
            if (token.Bool("single_word", false))
                throw token.Unsupported($"added token '{content}' is single_word, which is not supported.");
            var id = token.OptionalInt("id") ?? throw token.Missing("id");
            if (content.Length == 0) continue; // Hugging Face ignores an empty added token.
            var expected = assigned.TryGetValue(content, out var earlier) ? earlier
                : model.TokenToId(content) ?? (assigned.Count == 0 ? model.TokenCount
                    : assigned.Values.Max() is var max && (max >= model.TokenCount || model.TokenCount == 0) ? max + 1 : model.TokenCount);
            if (id != expected)
                throw new CorruptFileException(root.Source, null,
                    $"'{token.Where}.id' is {id}, but the token '{content}' has id {expected} ({(assigned.ContainsKey(content) || model.TokenToId(content) is not null ? "its id in the vocabulary or an earlier added token" : "the next id after the vocabulary and the added tokens before it")}); Hugging Face would use {expected}.");
            if (expected >= TokenizerLimits.MaxVocabularySize)
                throw new CorruptFileException(root.Source, null, $"'{token.Where}.id' {id} is beyond the {TokenizerLimits.MaxVocabularySize} ids a vocabulary may hold.");
            assigned[content] = id;
            tokens.Add(new AddedToken(content, id, token.Bool("special", false),
                token.Bool("normalized", !token.Bool("special", false)), token.Bool("lstrip", false), token.Bool("rstrip", false)));
        }

        return tokens;
    }

    private static BertNormalizer? ReadBertNormalizer(JsonFields root)
    {
        if (root.Get("normalizer") is null) return null;
        var normalizer = root.Object("normalizer");
        var type = normalizer.OptionalString("type");
        if (type != "BertNormalizer")
            throw normalizer.Unsupported($"normalizer type '{type}' is not supported with WordPiece; only BertNormalizer (or none) is.");
        return new BertNormalizer(new BertNormalizerOptions(
            normalizer.Bool("clean_text", true), normalizer.Bool("handle_chinese_chars", true),
            normalizer.OptionalBool("strip_accents"), normalizer.Bool("lowercase", true)));
    }

    private static BertPreTokenizer ReadBertPreTokenizer(JsonFields root)
    {
        var type = root.Get("pre_tokenizer") is null ? null : root.Object("pre_tokenizer").OptionalString("type");
        if (type != "BertPreTokenizer")
            throw root.Unsupported($"pre_tokenizer '{type ?? "null"}' is not supported with WordPiece; only BertPreTokenizer is.");
        return new BertPreTokenizer();
    }

    private static WordPieceModel ReadWordPiece(JsonFields model)
    {
        var vocabulary = ReadVocabulary(model);
        var unknown = model.OptionalString("unk_token") ?? "[UNK]";
        if (!vocabulary.ContainsKey(unknown)) throw new CorruptFileException(model.Source, null, $"'{model.Where}.unk_token' '{unknown}' is not in the vocabulary.");
        var maxChars = model.Int("max_input_chars_per_word", 100);
        if (maxChars <= 0) throw model.Wrong("max_input_chars_per_word", "a positive integer");
        return new WordPieceModel(vocabulary, unknown, model.OptionalString("continuing_subword_prefix") ?? "##", maxChars);
    }

    private static (ITextNormalizer?, IPreTokenizer, ITokenModel) ReadByteLevelBpe(JsonFields root, JsonFields model)
    {
        if (root.Get("normalizer") is not null)
            throw root.Object("normalizer").Unsupported("a normalizer is not supported with byte-level BPE (RoBERTa and GPT-2 have none).");
        var preTokenizer = root.Get("pre_tokenizer") is null ? (JsonFields?)null : root.Object("pre_tokenizer");
        if (preTokenizer?.OptionalString("type") != "ByteLevel")
            throw root.Unsupported($"BPE needs the ByteLevel pre_tokenizer; '{preTokenizer?.OptionalString("type") ?? "null"}' is not supported.");
        if (!preTokenizer.Value.Bool("use_regex", true)) throw preTokenizer.Value.Unsupported("use_regex false is not supported.");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (!string.IsNullOrEmpty(model.OptionalString(key))) throw model.Unsupported($"BPE {key} is not supported with byte-level BPE.");
        if (model.Get("dropout") is { ValueKind: JsonValueKind.Number } dropout && dropout.GetDouble() != 0)
            throw model.Unsupported("BPE dropout is random; it is not supported.");
        if (model.Bool("byte_fallback", false)) throw model.Unsupported("BPE byte_fallback is not supported.");
        var mergeEntries = model.Array("merges");
        if (mergeEntries.Count > TokenizerLimits.MaxVocabularySize) throw model.Wrong("merges", $"at most {TokenizerLimits.MaxVocabularySize} merges");
        var merges = mergeEntries.Select(ReadMerge).ToList();
        var bpe = new ByteLevelBpeModel(ReadVocabulary(model), merges, model.Source);
        return (null, new ByteLevelPreTokenizer(preTokenizer.Value.Bool("add_prefix_space", false)), bpe);
    }

    private static (string, string) ReadMerge(JsonFields merge)
    {
        var e = merge.Element;
        if (e.ValueKind == JsonValueKind.String && JsonFields.Text(e, merge.Source, merge.Where).Split(' ') is [var a, var b]) return (a, b);
        if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String && e[1].ValueKind == JsonValueKind.String)
            return (JsonFields.Text(e[0], merge.Source, merge.Where + "[0]"), JsonFields.Text(e[1], merge.Source, merge.Where + "[1]"));
        throw new CorruptFileException(merge.Source, null, $"'{merge.Where}' must be \"a b\" or [\"a\", \"b\"] but is {e.GetRawText()}.");
    }

    private static Dictionary<string, int> ReadVocabulary(JsonFields model)
    {
        if (model.Get("vocab") is not { ValueKind: JsonValueKind.Object } vocab) throw model.Wrong("vocab", "an object of token to id");
        return VocabularyFiles.ReadTokenIds(vocab, model.Source, model.Where + ".vocab");
    }

    private static SpecialTokenTemplate ReadPostProcessor(JsonFields root, int vocabularySize)
    {
        if (root.Get("post_processor") is null) return new SpecialTokenTemplate([], [], [], [], 0);
        var processor = root.Object("post_processor");
        var type = processor.OptionalString("type");
        switch (type)
        {
            case "BertProcessing" or "RobertaProcessing":
                return SpecialTokenTemplate.Around(PairId(processor, "cls", vocabularySize), PairId(processor, "sep", vocabularySize));
            case "TemplateProcessing":
                return ReadTemplate(processor, vocabularySize);
            case "Sequence":
                // e.g. [ByteLevel (offsets only), TemplateProcessing]: ids come from the one processor that adds tokens.
                var adding = processor.Array("processors").Where(p => p.OptionalString("type") != "ByteLevel").ToList();
                if (adding.Count != 1 || adding[0].OptionalString("type") is not ("TemplateProcessing" or "BertProcessing" or "RobertaProcessing"))
                    throw processor.Unsupported("a Sequence post-processor is supported only as ByteLevel plus one Template/Bert/Roberta processor.");
                return adding[0].OptionalString("type") == "TemplateProcessing"
                    ? ReadTemplate(adding[0], vocabularySize)
                    : SpecialTokenTemplate.Around(PairId(adding[0], "cls", vocabularySize), PairId(adding[0], "sep", vocabularySize));
            case "ByteLevel":
                return new SpecialTokenTemplate([], [], [], [], 0);
            default:
                throw processor.Unsupported($"post_processor type '{type}' is not supported; TemplateProcessing, BertProcessing, RobertaProcessing and ByteLevel are.");
        }
    }

    private static int PairId(JsonFields processor, string key, int vocabularySize)
    {
        if (processor.Get(key) is { ValueKind: JsonValueKind.Array } pair && pair.GetArrayLength() == 2 && pair[1].ValueKind == JsonValueKind.Number && pair[1].TryGetInt32(out var id))
            return CheckId(processor, $"{processor.Where}.{key}[1]", id, vocabularySize);
        throw processor.Wrong(key, "[token, id]");
    }

    private static int CheckId(JsonFields where, string path, int id, int vocabularySize) =>
        id >= 0 && id < vocabularySize ? id
        : throw new CorruptFileException(where.Source, null, $"'{path}' is {id}, outside the vocabulary [0, {vocabularySize}).");

    private static int CheckTypeId(JsonFields fields, string key)
    {
        var typeId = fields.Int(key, 0);
        return typeId is >= 0 and < TokenizerLimits.MaxTypeVocabularySize ? typeId
            : throw new CorruptFileException(fields.Source, null, $"'{fields.Where}.{key}' is {typeId}, outside the token types [0, {TokenizerLimits.MaxTypeVocabularySize}) a model may have.");
    }

    private static SpecialTokenTemplate ReadTemplate(JsonFields processor, int vocabularySize)
    {
        var specials = processor.Object("special_tokens");
        var (prefix, prefixTypes, suffix, suffixTypes) = (new List<int>(), new List<int>(), new List<int>(), new List<int>());
        int? sequenceType = null;
        foreach (var piece in processor.Array("single"))
        {
            if (piece.Get("Sequence") is not null)
            {
                var sequence = piece.Object("Sequence");
                if (sequence.OptionalString("id") != "A" || sequenceType is not null)
                    throw processor.Unsupported("the single template must hold sequence A exactly once.");
                sequenceType = CheckTypeId(sequence, "type_id");
            }
            else if (piece.Get("SpecialToken") is not null)
            {
                var special = piece.Object("SpecialToken");
                var name = special.String("id");
                var token = specials.Object(name);
                var ids = token.Array("ids").Select(i => i.Element.ValueKind == JsonValueKind.Number && i.Element.TryGetInt32(out var v)
                    ? CheckId(i, i.Where, v, vocabularySize) : throw token.Wrong("ids", "an array of integer ids")).ToList();
                if (prefix.Count + suffix.Count + ids.Count > TokenizerLimits.MaxSequenceLength)
                    throw processor.Wrong("single", $"a template of at most {TokenizerLimits.MaxSequenceLength} special tokens");
                var typeId = CheckTypeId(special, "type_id");
                (sequenceType is null ? prefix : suffix).AddRange(ids);
                (sequenceType is null ? prefixTypes : suffixTypes).AddRange(Enumerable.Repeat(typeId, ids.Count));
            }
            else
            {
                throw processor.Unsupported($"template piece {piece.Element.GetRawText()} is neither Sequence nor SpecialToken.");
            }
        }

        if (sequenceType is null) throw processor.Unsupported("the single template lacks sequence A.");
        return new SpecialTokenTemplate([.. prefix], [.. suffix], [.. prefixTypes], [.. suffixTypes], sequenceType.Value);
    }

    private static TruncationSettings? ReadTruncation(JsonFields root)
    {
        if (root.Get("truncation") is null) return null;
        var truncation = root.Object("truncation");
        var maxLength = truncation.OptionalInt("max_length") ?? throw truncation.Missing("max_length");
        if (maxLength <= 0) throw truncation.Wrong("max_length", "a positive integer");
        // For a single sequence every strategy (LongestFirst, OnlyFirst, OnlySecond) cuts that sequence.
        return new TruncationSettings(maxLength, ReadSide(truncation));
    }

    private static PaddingSettings ReadPadding(JsonFields root, ITokenModel model, IReadOnlyList<AddedToken> added, int vocabularySize)
    {
        if (root.Get("padding") is null) return new PaddingSettings(DefaultPadId(model, added));
        var padding = root.Object("padding");
        int? fixedLength = null;
        if (padding.Get("strategy") is { } strategy)
        {
            if (strategy.ValueKind == JsonValueKind.Object && strategy.TryGetProperty("Fixed", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var length) && length > 0)
                fixedLength = length <= TokenizerLimits.MaxSequenceLength ? length
                    : throw new CorruptFileException(padding.Source, null, $"'{padding.Where}.strategy.Fixed' is {length}, longer than the {TokenizerLimits.MaxSequenceLength} tokens a sequence may have.");
            else if (!(strategy.ValueKind == JsonValueKind.String && strategy.GetString() == "BatchLongest"))
                throw padding.Unsupported($"padding strategy {strategy.GetRawText()} is not supported; BatchLongest and {{\"Fixed\": n}} are.");
        }

        var multiple = padding.OptionalInt("pad_to_multiple_of");
        if (multiple is < 0 or > TokenizerLimits.MaxSequenceLength) throw padding.Wrong("pad_to_multiple_of", $"an integer in [0, {TokenizerLimits.MaxSequenceLength}]");
        var padId = CheckId(padding, padding.Where + ".pad_id", padding.Int("pad_id", 0), vocabularySize);
        return new PaddingSettings(padId, CheckTypeId(padding, "pad_type_id"), ReadSide(padding), fixedLength, multiple);
    }

    private static Side ReadSide(JsonFields settings) => settings.OptionalString("direction") switch
    {
        null or "Right" => Side.Right,
        "Left" => Side.Left,
        var other => throw settings.Unsupported($"direction '{other}' is not supported; Right and Left are."),
    };

    // Without a padding section, HF's own padding call uses the pad token; [PAD] / <pad> where the vocabulary has one.
    private static int DefaultPadId(ITokenModel model, IReadOnlyList<AddedToken> added) =>
        added.FirstOrDefault(t => t.Content is "[PAD]" or "<pad>")?.Id ?? model.TokenToId("[PAD]") ?? model.TokenToId("<pad>") ?? 0;
}
