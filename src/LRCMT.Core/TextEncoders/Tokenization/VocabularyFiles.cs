using System.Text;
using System.Text.Json;
using LRCMT.Errors;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>Reads the plain vocabulary files of Hugging Face folders (<c>vocab.txt</c>, <c>vocab.json</c>, <c>merges.txt</c>, <c>tokenizer_config.json</c>).</summary>
internal static class VocabularyFiles
{
    /// <summary>
    /// <c>vocab.txt</c>: one WordPiece token per line, the line number is its id (a repeated token keeps its last line,
    /// as Hugging Face's loader does); the line break (LF or CRLF) is not part of the token.
    /// </summary>
    public static (Dictionary<string, int> Vocabulary, int LineCount) ReadVocabTxt(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var vocabulary = new Dictionary<string, int>();
        var index = 0;
        while (reader.ReadLine() is { } line) vocabulary[line] = index++;
        return (vocabulary, index);
    }

    /// <summary><c>vocab.json</c>: an object of token to id.</summary>
    public static Dictionary<string, int> ReadVocabJson(string path)
    {
        using var document = JsonFields.Parse(File.ReadAllText(path), path);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new CorruptFileException(path, null, "vocab.json must be an object of token to id.");
        var vocabulary = new Dictionary<string, int>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new CorruptFileException(path, null, $"token '{entry.Name}' must have a non-negative integer id but has {entry.Value.GetRawText()}.");
            vocabulary[entry.Name] = id;
        }

        return vocabulary;
    }

    /// <summary><c>merges.txt</c>: an optional <c>#version</c> line, then one "left right" pair per line, highest priority first.</summary>
    public static List<(string, string)> ReadMerges(string path)
    {
        var merges = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if ((lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) || line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2) throw new CorruptFileException(path, null, $"line {lineNumber} must be two tokens separated by one space but is '{line}'.");
            merges.Add((parts[0], parts[1]));
        }

        return merges;
    }

    /// <summary>The object of an optional <c>tokenizer_config.json</c>, or null when the folder has none.</summary>
    public static JsonDocument? ReadTokenizerConfig(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return null;
        var document = JsonFields.Parse(File.ReadAllText(path), path);
        if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
        document.Dispose();
        throw new CorruptFileException(path, null, "tokenizer_config.json must be a JSON object.");
    }
}
