using System.Text.Json;
using LRCMT.Errors;
using LRCMT.IO;
using LRCMT.TextEncoders.Tokenization;

namespace LRCMT.TextEncoders;

/// <summary>
/// BERT's tokenization exactly as Hugging Face's <c>BertTokenizerFast</c> does it, whatever the host's globalization
/// mode: BertNormalizer (clean text, CJK ideographs split, accent stripping by Unicode decomposition, lower-casing),
/// BertPreTokenizer (whitespace and every punctuation or ASCII symbol), WordPiece (<c>##</c> continuations, words over
/// 100 characters to <c>[UNK]</c>); <c>[CLS]</c>/<c>[SEP]</c>/<c>[PAD]</c>/<c>[UNK]</c>/<c>[MASK]</c> written in the
/// text are matched as those tokens. Single sentences: <c>[CLS] tokens [SEP]</c>, token type 0.
/// Built from a <c>vocab.txt</c> or a <c>tokenizer.json</c> (<see cref="FromFolder"/> picks the file Hugging Face would).
/// </summary>
public sealed class BertTextTokenizer : ITextTokenizer
{
    private static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    private readonly TokenizerPipeline pipeline;

    private BertTextTokenizer(TokenizerPipeline pipeline)
    {
        this.pipeline = pipeline;
    }

    /// <inheritdoc />
    public int VocabularySize => pipeline.VocabularySize;

    /// <summary>Id of the padding token.</summary>
    public int PaddingTokenId => pipeline.Padding.PadId;

    /// <inheritdoc />
    public string? IdToToken(int id) => pipeline.IdToToken(id);

    /// <summary>Creates the tokenizer from a <c>vocab.txt</c> file (one WordPiece token per line).</summary>
    /// <param name="path">The vocabulary file.</param>
    /// <param name="lowerCase">Lower-case (and strip accents) before splitting, as uncased models expect.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The vocabulary lacks one of the special tokens.</exception>
    public static BertTextTokenizer FromVocabFile(string path, bool lowerCase = true) =>
        FromVocabFile(path, new BertTokenizerOptions { Lowercase = lowerCase });

    /// <summary>Creates the tokenizer from a <c>vocab.txt</c> file with explicit normalization options.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file, or the file is larger than a vocabulary may be.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8, or the vocabulary lacks one of the special tokens.</exception>
    public static BertTextTokenizer FromVocabFile(string path, BertTokenizerOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        return FromVocab(InputFile.ReadAllBytes(path, InputKind.Vocabulary), options, path);
    }

    /// <summary>Creates the tokenizer from a stream holding a <c>vocab.txt</c>; the stream is read to its end, not disposed.</summary>
    /// <param name="vocabulary">The vocabulary text.</param>
    /// <param name="lowerCase">Lower-case (and strip accents) before splitting, as uncased models expect.</param>
    /// <exception cref="CorruptFileException">The vocabulary lacks one of the special tokens.</exception>
    public static BertTextTokenizer FromVocabStream(Stream vocabulary, bool lowerCase = true) =>
        FromVocabStream(vocabulary, new BertTokenizerOptions { Lowercase = lowerCase });

    /// <summary>Creates the tokenizer from a stream holding a <c>vocab.txt</c>, with explicit normalization options.</summary>
    /// <exception cref="InputFileException">The stream holds more than a vocabulary may.</exception>
    /// <exception cref="CorruptFileException">The text is not UTF-8, or the vocabulary lacks one of the special tokens.</exception>
    public static BertTextTokenizer FromVocabStream(Stream vocabulary, BertTokenizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(options);
        return FromVocab(InputFile.ReadAllBytes(vocabulary, InputKind.Vocabulary, "vocab.txt"), options, "vocab.txt");
    }

    /// <summary>
    /// Loads a Hugging Face tokenizer folder: <c>tokenizer.json</c> when present (as the fast tokenizer does),
    /// otherwise <c>vocab.txt</c> with the options of <c>tokenizer_config.json</c> (<c>do_lower_case</c>,
    /// <c>strip_accents</c>, <c>tokenize_chinese_chars</c>) if there is one.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has neither tokenizer.json nor vocab.txt.</exception>
    /// <exception cref="CorruptFileException">A file is not valid JSON or lacks something it must have.</exception>
    /// <exception cref="UnsupportedTokenizerException">The tokenizer is not a BERT WordPiece tokenizer, or asks for a setting this library cannot reproduce.</exception>
    public static BertTextTokenizer FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        var json = Path.Combine(folder, "tokenizer.json");
        if (InputFile.IsPresent(json)) return FromTokenizerJson(json);
        var vocab = Path.Combine(folder, "vocab.txt");
        if (!InputFile.IsPresent(vocab)) throw new FileNotFoundException($"Tokenizer folder '{folder}' has neither tokenizer.json nor vocab.txt.", vocab);
        return FromVocabFile(vocab, ReadOptions(folder));
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> of a WordPiece (BERT) tokenizer.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file, or the file is larger than a tokenizer.json may be.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8 or not valid JSON, lacks something it must have, or holds an id outside the vocabulary (the JSON path is named).</exception>
    /// <exception cref="UnsupportedTokenizerException">The tokenizer is not WordPiece, or asks for a setting this library cannot reproduce.</exception>
    public static BertTextTokenizer FromTokenizerJson(string path)
        => new(TokenizerJsonReader.ReadFile<WordPieceModel>(path, "the model is not WordPiece; a byte-level BPE tokenizer.json loads with RobertaTextTokenizer."));

    /// <summary>Token ids of one sentence with the special tokens, truncated to <paramref name="maxLength"/> tokens in all.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2 (room for the special tokens).</exception>
    public IReadOnlyList<int> Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        return pipeline.EncodeIds(text, maxLength);
    }

    /// <inheritdoc />
    public EncodedBatch Encode(IReadOnlyList<string> texts, int maxLength)
    {
        TokenizerArguments.CheckBatch(texts, maxLength);
        return pipeline.EncodeBatch(texts, maxLength);
    }

    private static BertTextTokenizer FromVocab(byte[] bytes, BertTokenizerOptions options, string source)
    {
        var (vocabulary, _) = VocabularyFiles.ReadVocabTxt(bytes, source);
        var missing = SpecialTokens.Where(t => !vocabulary.ContainsKey(t)).ToList();
        if (missing.Count > 0) throw new CorruptFileException(source, null, $"the vocabulary lacks the special token(s) {string.Join(", ", missing)}.");
        var normalizer = new BertNormalizer(new BertNormalizerOptions(options.CleanText, options.TokenizeChineseChars, options.StripAccents, options.Lowercase));
        var model = new WordPieceModel(vocabulary, "[UNK]", "##", 100);
        // BertTokenizerFast declares the special tokens as added tokens: matched in the raw text, never normalized.
        var added = SpecialTokens.Select(t => new AddedToken(t, vocabulary[t], Special: true, Normalized: false)).ToList();
        var template = SpecialTokenTemplate.Around(vocabulary["[CLS]"], vocabulary["[SEP]"]);
        var pipeline = new TokenizerPipeline(normalizer, new BertPreTokenizer(), model, added, template, null, new PaddingSettings(vocabulary["[PAD]"]));
        return new BertTextTokenizer(pipeline);
    }

    private static BertTokenizerOptions ReadOptions(string folder)
    {
        using var config = VocabularyFiles.ReadTokenizerConfig(folder);
        if (config is null) return new BertTokenizerOptions();
        var fields = new JsonFields(config.RootElement, Path.Combine(folder, "tokenizer_config.json"), "tokenizer_config");
        var tokenizerClass = fields.OptionalString("tokenizer_class");
        if (tokenizerClass is not (null or "BertTokenizer" or "BertTokenizerFast" or "DistilBertTokenizer" or "DistilBertTokenizerFast"))
            throw fields.Unsupported($"tokenizer_class '{tokenizerClass}' is not supported from vocab.txt; BertTokenizer and DistilBertTokenizer are.");
        if (!fields.Bool("do_basic_tokenize", true)) throw fields.Unsupported("do_basic_tokenize false is not supported.");
        if (fields.Get("never_split") is { ValueKind: JsonValueKind.Array } neverSplit && neverSplit.GetArrayLength() > 0)
            throw fields.Unsupported("never_split is not supported (the fast tokenizer ignores it too); declare added tokens in a tokenizer.json instead.");
        return new BertTokenizerOptions
        {
            Lowercase = fields.Bool("do_lower_case", true),
            StripAccents = fields.OptionalBool("strip_accents"),
            TokenizeChineseChars = fields.Bool("tokenize_chinese_chars", true),
        };
    }
}
