using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// BERT's WordPiece tokenization (<see cref="BertTokenizer"/> from Microsoft.ML.Tokenizers, built from a
/// <c>vocab.txt</c>) producing padded id, mask and token type tensors for a <see cref="BertModel"/>.
/// Single sentences only: <c>[CLS] tokens [SEP]</c>, token type 0 everywhere, as Hugging Face's tokenizer does.
/// </summary>
public sealed class BertTextTokenizer : ITextTokenizer
{
    private readonly BertTokenizer tokenizer;

    private BertTextTokenizer(BertTokenizer tokenizer, int vocabularySize)
    {
        this.tokenizer = tokenizer;
        VocabularySize = vocabularySize;
    }

    /// <inheritdoc />
    public int VocabularySize { get; }

    /// <summary>Id of the padding token.</summary>
    public int PaddingTokenId => tokenizer.PaddingTokenId;

    /// <summary>Creates the tokenizer from a <c>vocab.txt</c> file (one WordPiece token per line).</summary>
    /// <param name="path">The vocabulary file.</param>
    /// <param name="lowerCase">Lower-case (and strip accents) before splitting, as uncased models expect.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="Errors.CorruptFileException">The file is too large, has more than <see cref="BertConfig.MaxVocabSize"/> lines, or lacks BERT's special tokens.</exception>
    public static BertTextTokenizer FromVocabFile(string path, bool lowerCase = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return FromVocabStream(stream, lowerCase, path);
    }

    /// <summary>Largest vocabulary file read (far above any WordPiece vocabulary of <see cref="BertConfig.MaxVocabSize"/> tokens).</summary>
    private const long MaxVocabularyBytes = 64L << 20;

    /// <summary>Creates the tokenizer from a stream holding a <c>vocab.txt</c>; the stream is read to its end, not disposed.</summary>
    /// <param name="vocabulary">The vocabulary text.</param>
    /// <param name="lowerCase">Lower-case (and strip accents) before splitting, as uncased models expect.</param>
    /// <param name="source">Names the vocabulary in errors.</param>
    /// <exception cref="Errors.CorruptFileException">The vocabulary is too large, or the tokenizer cannot be built from it (e.g. no [UNK], [CLS] or [SEP]).</exception>
    public static BertTextTokenizer FromVocabStream(Stream vocabulary, bool lowerCase = true, string source = "vocab.txt")
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        // The vocabulary is read twice (size, then tokenizer), so buffer it once, refusing sizes no vocabulary has.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        for (int read; (read = vocabulary.Read(chunk)) > 0;)
        {
            if (buffer.Length + read > MaxVocabularyBytes)
                throw new Errors.CorruptFileException(source, buffer.Length, $"a vocabulary larger than {MaxVocabularyBytes} bytes is not a WordPiece vocab.txt");
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        var size = CountLines(buffer);
        if (size == 0 || size > BertConfig.MaxVocabSize)
            throw new Errors.CorruptFileException(source, null, $"the vocabulary has {size} tokens; expected 1 to {BertConfig.MaxVocabSize}");
        buffer.Position = 0;
        var options = new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase };
        try
        {
            return new BertTextTokenizer(BertTokenizer.Create(buffer, options), size);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException or InvalidDataException)
        {
            throw new Errors.CorruptFileException(source, null, $"cannot build a BERT tokenizer from this vocabulary: {e.Message}", e);
        }
    }

    /// <summary>
    /// Refuses a tokenizer whose vocabulary does not have exactly <paramref name="config"/>'s <c>vocab_size</c> tokens:
    /// a shorter vocab.txt is another model's, and a longer one produces ids outside the embedding table.
    /// </summary>
    /// <exception cref="Errors.InvalidConfigurationException">The sizes differ (both are named).</exception>
    public void RequireMatches(BertConfig config, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (VocabularySize != config.VocabSize)
            throw new Errors.InvalidConfigurationException($"text encoder '{source}'",
                $"vocab.txt has {VocabularySize} tokens but config.json's vocab_size is {config.VocabSize}; the vocabulary belongs to another model.");
    }

    /// <summary>Token ids of one sentence with <c>[CLS]</c>/<c>[SEP]</c>, truncated to <paramref name="maxLength"/> tokens in all.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2 (room for the special tokens).</exception>
    public IReadOnlyList<int> Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var words = tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        var kept = words.Count > maxLength - 2 ? words.Take(maxLength - 2) : words;
        return [tokenizer.ClassificationTokenId, .. kept, tokenizer.SeparatorTokenId];
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="texts"/> is empty or holds a null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 2.</exception>
    public TokenizedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("At least one text is needed.", nameof(texts));
        if (texts.Any(t => t is null)) throw new ArgumentException("Texts must not be null.", nameof(texts));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);

        var encoded = texts.Select(t => Encode(t, maxLength)).ToList();
        var length = encoded.Max(e => e.Count);
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        Array.Fill(ids, tokenizer.PaddingTokenId);
        for (var row = 0; row < encoded.Count; row++)
        {
            for (var column = 0; column < encoded[row].Count; column++)
            {
                ids[row * length + column] = encoded[row][column];
                mask[row * length + column] = 1;
            }
        }

        long[] shape = [texts.Count, length];
        return new TokenizedBatch(tensor(ids, shape), tensor(mask, shape), zeros(shape, ScalarType.Int64));
    }

    private static int CountLines(Stream stream)
    {
        using var reader = new StreamReader(stream, leaveOpen: true);
        var count = 0;
        while (reader.ReadLine() is not null) count++;
        return count;
    }
}
