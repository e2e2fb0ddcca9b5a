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
        Get(key) is { } e ? e.ValueKind == JsonValueKind.String ? Text(e, source, $"{where}.{key}") : throw Wrong(key, "a string") : null;

    /// <summary>Where this object is, as a JSON path from the file's root (e.g. <c>tokenizer.model</c>).</summary>
    public string Where => where;

    public bool Bool(string key, bool fallback) => OptionalBool(key) ?? fallback;

    public bool? OptionalBool(string key) =>
        Get(key) is { } e ? e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw Wrong(key, "true or false") : null;

    public int Int(string key, int fallback) => OptionalInt(key) ?? fallback;

    public int? OptionalInt(string key) =>
        Get(key) is { } e ? e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Wrong(key, "an integer") : null;

    public IReadOnlyList<JsonFields> Array(string key)
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

    /// <summary>A string value; an escape that is not valid UTF-16 (a lone surrogate) is a corrupt file naming the path.</summary>
    public static string Text(JsonElement value, string source, string where)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new CorruptFileException(source, null, $"'{where}' holds an escape that is not a Unicode character (a lone surrogate): {value.GetRawText()}.", e);
        }
    }

    /// <summary>A property name; a lone-surrogate escape in it is a corrupt file naming the object.</summary>
    public static string PropertyName(JsonProperty property, string source, string where)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new CorruptFileException(source, null, $"a key of '{where}' holds an escape that is not a Unicode character (a lone surrogate).", e);
        }
    }

    /// <summary>
    /// Parses a whole file's UTF-8 (held, not copied, by the document). Every string and key must be valid Unicode: a lone-surrogate escape anywhere is
    /// refused (naming its JSON path), as Hugging Face's JSON reader refuses the file.
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8);
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(source, e.BytePositionInLine, "not valid JSON: " + e.Message, e);
        }

        try
        {
            RequireUnicode(document.RootElement, source, "$");
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks a JSON input before a <c>JsonNode</c> reads it (which decodes keys and strings only when they are first
    /// used, and would then throw an untyped <see cref="InvalidOperationException"/>): it must be JSON, repeat no key of
    /// an object and hold no lone-surrogate escape in any key or string. Each is a <see cref="CorruptFileException"/>
    /// naming <paramref name="source"/>.
    /// </summary>
    internal static void RequireStrict(ReadOnlyMemory<byte> utf8, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(source, e.BytePositionInLine, "not valid JSON: " + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // Comparing keys for repeats decodes them: a lone surrogate in a key fails there.
            throw new CorruptFileException(source, null, "a key holds an escape that is not a Unicode character (a lone surrogate).", e);
        }

        using (document) RequireUnicode(document.RootElement, source, "$");
    }

    /// <summary>Refuses a lone-surrogate escape in any string or key under <paramref name="element"/> (a corrupt file naming its path).</summary>
    internal static void RequireUnicode(JsonElement element, string source, string where)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                Text(element, source, where);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray()) RequireUnicode(item, source, $"{where}[{index++}]");
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                    RequireUnicode(property.Value, source, $"{where}.{PropertyName(property, source, where)}");
                break;
        }
    }
}
