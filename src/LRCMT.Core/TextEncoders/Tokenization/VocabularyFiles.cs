using System.Collections;
using System.Text.Json;
using LRCMT.Errors;
using LRCMT.IO;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// Reads the plain vocabulary files of Hugging Face folders (<c>vocab.txt</c>, <c>vocab.json</c>, <c>merges.txt</c>,
/// <c>tokenizer_config.json</c>) through <see cref="InputFile"/> (bounded, strict UTF-8), and validates every
/// token-to-id table like a weights file: ids whole, in [0, <see cref="TokenizerLimits.MaxVocabularySize"/>), unique.
/// </summary>
internal static class VocabularyFiles
{
    /// <summary>
    /// <c>vocab.txt</c>: one WordPiece token per line, the line number is its id (a repeated token keeps its last line,
    /// as Hugging Face's loader does); the line break (LF, CRLF or CR) is not part of the token.
    /// </summary>
    /// <exception cref="CorruptFileException">Invalid UTF-8, or more lines than a vocabulary may have.</exception>
    public static (Dictionary<string, int> Vocabulary, int LineCount) ReadVocabTxt(byte[] bytes, string source)
    {
        var text = InputFile.DecodeUtf8(bytes, source).AsSpan();
        var vocabulary = new Dictionary<string, int>();
        var index = 0;
        while (text.Length > 0)
        {
            var end = text.IndexOfAny('\r', '\n');
            var line = end < 0 ? text : text[..end];
            if (index == TokenizerLimits.MaxVocabularySize)
                throw new CorruptFileException(source, null, $"the vocabulary has more than the {TokenizerLimits.MaxVocabularySize} tokens a vocabulary may hold.");
            vocabulary[line.ToString()] = index++;
            if (end < 0) break;
            text = text[(end + (text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? 2 : 1))..];
        }

        return (vocabulary, index);
    }

    /// <summary><c>vocab.json</c>: an object of token to id.</summary>
    public static Dictionary<string, int> ReadVocabJson(string path)
    {
        using var document = JsonFields.Parse(InputFile.ReadAllUtf8(path, InputKind.Vocabulary), path);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new CorruptFileException(path, null, "vocab.json must be an object of token to id.");
        return ReadTokenIds(document.RootElement, path, "vocab");
    }

    /// <summary>
    /// A JSON object of token to id (<c>vocab.json</c>, a <c>tokenizer.json</c>'s <c>model.vocab</c>): every id a whole
    /// number in [0, 2^20), no id or token twice, at most 2^20 entries. Errors name the JSON path.
    /// </summary>
    public static Dictionary<string, int> ReadTokenIds(JsonElement vocab, string source, string where)
    {
        var vocabulary = new Dictionary<string, int>();
        var usedIds = new BitArray(TokenizerLimits.MaxVocabularySize);
        var position = 0;
        foreach (var entry in vocab.EnumerateObject())
        {
            if (position++ == TokenizerLimits.MaxVocabularySize)
                throw new CorruptFileException(source, null, $"'{where}' has more than the {TokenizerLimits.MaxVocabularySize} tokens a vocabulary may hold.");
            var token = JsonFields.PropertyName(entry, source, where);
            var path = $"{where}[{JsonSerializer.Serialize(token)}]";
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0 || id >= TokenizerLimits.MaxVocabularySize)
                throw new CorruptFileException(source, null, $"'{path}' must be a whole id in [0, {TokenizerLimits.MaxVocabularySize}) but is {entry.Value.GetRawText()}.");
            if (!vocabulary.TryAdd(token, id)) throw new CorruptFileException(source, null, $"'{path}' appears twice.");
            if (usedIds[id])
                throw new CorruptFileException(source, null, $"'{path}' has id {id}, which '{vocabulary.First(p => p.Value == id && p.Key != token).Key}' already has; ids must be unique.");
            usedIds[id] = true;
        }

        return vocabulary;
    }

    /// <summary><c>merges.txt</c>: an optional <c>#version</c> line, then one "left right" pair per line, highest priority first.</summary>
    public static List<(string, string)> ReadMerges(string path)
    {
        var merges = new List<(string, string)>();
        var lineNumber = 0;
        var text = InputFile.ReadAllText(path, InputKind.Merges);
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range).TrimEnd('\r');
            lineNumber++;
            if ((lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) || line.Length == 0) continue;
            var space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line[(space + 1)..].Contains(' '))
                throw new CorruptFileException(path, null, $"line {lineNumber} must be two tokens separated by one space but is '{line}'.");
            merges.Add((line[..space].ToString(), line[(space + 1)..].ToString()));
        }

        return merges;
    }

    /// <summary>The object of an optional <c>tokenizer_config.json</c>, or null when the folder has none.</summary>
    public static JsonDocument? ReadTokenizerConfig(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (!InputFile.IsPresent(path)) return null;
        var document = JsonFields.Parse(InputFile.ReadAllUtf8(path, InputKind.TokenizerConfig), path);
        if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
        document.Dispose();
        throw new CorruptFileException(path, null, "tokenizer_config.json must be a JSON object.");
    }
}
