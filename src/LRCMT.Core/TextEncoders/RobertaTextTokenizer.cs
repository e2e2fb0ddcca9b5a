using LRCMT.Errors;
using LRCMT.IO;
using LRCMT.TextEncoders.Tokenization;

namespace LRCMT.TextEncoders;

/// <summary>
/// RoBERTa's byte-level BPE exactly as Hugging Face's <c>RobertaTokenizerFast</c> does it: the GPT-2 split, every UTF-8
/// byte as one symbol, BPE merges by rank; <c>&lt;s&gt; tokens &lt;/s&gt;</c>; <c>&lt;s&gt;</c>, <c>&lt;pad&gt;</c>,
/// <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c> and <c>&lt;mask&gt;</c> (which takes the space before it) written in the text are
/// matched as those tokens. Built from <c>vocab.json</c> + <c>merges.txt</c> or a <c>tokenizer.json</c>.
/// </summary>
public sealed class RobertaTextTokenizer : ITextTokenizer
{
    private static readonly string[] SpecialTokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];
    private readonly TokenizerPipeline pipeline;

    private RobertaTextTokenizer(TokenizerPipeline pipeline)
    {
        this.pipeline = pipeline;
    }

    /// <inheritdoc />
    public int VocabularySize => pipeline.VocabularySize;

    /// <summary>Id of the padding token.</summary>
    public int PaddingTokenId => pipeline.Padding.PadId;

    /// <inheritdoc />
    public string? IdToToken(int id) => pipeline.IdToToken(id);

    /// <summary>Creates the tokenizer from GPT-2-style <c>vocab.json</c> and <c>merges.txt</c> files.</summary>
    /// <param name="vocabularyPath">The token-to-id JSON object.</param>
    /// <param name="mergesPath">The merges, highest priority first.</param>
    /// <param name="addPrefixSpace">Put a space before the text so its first word is tokenized like the others (<c>add_prefix_space</c>).</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InputFileException">A path is not a regular file, or a file is larger than its kind may be.</exception>
    /// <exception cref="CorruptFileException">A file is not UTF-8 or malformed, an id is repeated or out of range, a merge makes a token the vocabulary lacks, or a special token is missing.</exception>
    public static RobertaTextTokenizer FromFiles(string vocabularyPath, string mergesPath, bool addPrefixSpace = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabularyPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesPath);
        var vocabulary = VocabularyFiles.ReadVocabJson(vocabularyPath);
        var missing = SpecialTokens.Where(t => !vocabulary.ContainsKey(t)).ToList();
        if (missing.Count > 0) throw new CorruptFileException(vocabularyPath, null, $"the vocabulary lacks the special token(s) {string.Join(", ", missing)}.");
        var model = new ByteLevelBpeModel(vocabulary, VocabularyFiles.ReadMerges(mergesPath), mergesPath);
        // RobertaTokenizerFast declares the special tokens as added tokens; <mask> absorbs the whitespace before it.
        var added = SpecialTokens.Select(t => new AddedToken(t, vocabulary[t], Special: true, Normalized: false, LeftStrip: t == "<mask>")).ToList();
        var template = SpecialTokenTemplate.Around(vocabulary["<s>"], vocabulary["</s>"]);
        var pipeline = new TokenizerPipeline(null, new ByteLevelPreTokenizer(addPrefixSpace), model, added, template, null, new PaddingSettings(vocabulary["<pad>"]));
        return new RobertaTextTokenizer(pipeline);
    }

    /// <summary>Loads a Hugging Face tokenizer folder: <c>tokenizer.json</c> when present, otherwise <c>vocab.json</c> + <c>merges.txt</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has neither tokenizer.json nor vocab.json and merges.txt.</exception>
    /// <exception cref="CorruptFileException">A file is malformed.</exception>
    /// <exception cref="UnsupportedTokenizerException">The tokenizer is not byte-level BPE, or asks for a setting this library cannot reproduce.</exception>
    public static RobertaTextTokenizer FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        var json = Path.Combine(folder, "tokenizer.json");
        return InputFile.IsPresent(json) ? FromTokenizerJson(json) : FromFiles(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> of a byte-level BPE (RoBERTa, GPT-2) tokenizer.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file, or the file is larger than a tokenizer.json may be.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8 or not valid JSON, is malformed, or holds an id outside the vocabulary (the JSON path is named).</exception>
    /// <exception cref="UnsupportedTokenizerException">The tokenizer is not byte-level BPE, or asks for a setting this library cannot reproduce.</exception>
    public static RobertaTextTokenizer FromTokenizerJson(string path)
        => new(TokenizerJsonReader.ReadFile<ByteLevelBpeModel>(path, "the model is not byte-level BPE; a WordPiece tokenizer.json loads with BertTextTokenizer."));

    /// <summary>Token ids of one sentence with <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>, truncated to <paramref name="maxLength"/> tokens in all.</summary>
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
}
