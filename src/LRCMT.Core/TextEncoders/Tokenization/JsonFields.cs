using System.Text.Json;
using LRCMT.Errors;

namespace LRCMT.TextEncoders.Tokenization;

/// <summary>Typed reads of one JSON object of a tokenizer file; a wrong type is a corrupt file naming the key.</summary>
internal readonly struct JsonFields(JsonElement element, string source, string where)
{
    public JsonElement Element => element;

    public string Source => source;

    public JsonElement? Get(string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;

    public JsonFields Object(string key) =>
        Get(key) is { ValueKind: JsonValueKind.Object } e ? new JsonFields(e, source, $"{where}.{key}") : throw Wrong(key, "an object");

    public string String(string key) => OptionalString(key) ?? throw Missing(key);

    public string? OptionalString(string key) =>
        Get(key) is { } e ? e.ValueKind == JsonValueKind.String ? e.GetString() : throw Wrong(key, "a string") : null;

    public bool Bool(string key, bool fallback) => OptionalBool(key) ?? fallback;

    public bool? OptionalBool(string key) =>
        Get(key) is { } e ? e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw Wrong(key, "true or false") : null;

    public int Int(string key, int fallback) => OptionalInt(key) ?? fallback;

    public int? OptionalInt(string key) =>
        Get(key) is { } e ? e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Wrong(key, "an integer") : null;

    public IEnumerable<JsonFields> Array(string key)
    {
        if (Get(key) is not { } e) return [];
        if (e.ValueKind != JsonValueKind.Array) throw Wrong(key, "an array");
        var (s, w) = (source, where);
        return e.EnumerateArray().Select((item, i) => new JsonFields(item, s, $"{w}.{key}[{i}]")).ToList();
    }

    public CorruptFileException Wrong(string key, string expected) =>
        new(source, null, $"'{where}.{key}' must be {expected} but is {(Get(key) is { } e ? e.GetRawText() : "missing")}.");

    public CorruptFileException Missing(string key) => new(source, null, $"'{where}.{key}' is missing.");

    public UnsupportedTokenizerException Unsupported(string problem) => new(source, $"'{where}': {problem}");

    /// <summary>Parses a whole file's text.</summary>
    public static JsonDocument Parse(string text, string source)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(source, e.BytePositionInLine, "not valid JSON: " + e.Message, e);
        }
    }
}
