using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Hostile variants of a JSON document at the level of its fields: one value anywhere in it (or a new key) replaced by
/// a lie of another type, size or meaning (nulls where lists or numbers go, numbers at the edges of 32 and 64 bits,
/// non-finite and fractional numbers, catastrophic and invalid regular expressions, huge strings and arrays), or the text
/// broken (a repeated key, invalid UTF-8 or a lone surrogate inside a string, 100,000 nested arrays, a cut-off end).
/// The document stays small: a lie of size is a claim, not bytes.
/// </summary>
internal static class HostileJson
{
    private static readonly Func<JsonNode?>[] Lies =
    [
        () => null, () => new JsonArray(), () => new JsonObject(), () => new JsonArray((JsonNode?)null), () => "", () => true,
        () => -1, () => 0, () => int.MaxValue, () => 2147483648L, () => long.MaxValue, () => long.MinValue, () => 1e308,
        () => -1e308, () => 2.5, () => 1e-320, () => "NaN", () => "Infinity", () => "-1",
        () => "(a+)+$", () => "((a|a)+)+b", () => "[", () => "(?<x", () => "\\", () => "(.*a){25}", () => ".*",
        () => new string('a', 100_000), () => new JsonArray(Enumerable.Range(0, 20_000).Select(_ => (JsonNode?)null).ToArray()),
        () => new JsonArray(Enumerable.Range(0, 2_000).Select(i => (JsonNode?)("m" + i.ToString(CultureInfo.InvariantCulture))).ToArray()),
        () => new JsonObject { ["x"] = null, [""] = -1 }, () => new JsonArray(-1, int.MaxValue, null, "x"),
    ];

    private enum TextLie { RepeatedKey, InvalidUtf8, LoneSurrogate, DeepNesting, CutOff, TrailingGarbage }

    /// <summary>
    /// One hostile variant of <paramref name="seed"/>; <paramref name="extraKeys"/> are keys worth adding at the top
    /// (flags the reader must refuse or ignore, e.g. <c>is_decoder</c>), each set to <c>true</c> or a lie.
    /// </summary>
    internal static (byte[] Bytes, string How) Generate(byte[] seed, Random random, params string[] extraKeys)
    {
        if (random.Next(5) == 0) return BreakText(seed, random);
        var root = JsonNode.Parse(seed)!;
        var slots = Slots(root, "$").ToList();
        if (extraKeys.Length > 0 && random.Next(4) == 0)
        {
            string key = extraKeys[random.Next(extraKeys.Length)];
            var value = random.Next(2) == 0 ? JsonValue.Create(true) : Lies[random.Next(Lies.Length)]();
            root.AsObject()[key] = value;
            return (Encoding.UTF8.GetBytes(root.ToJsonString()), $"{key} = {Describe(value)}");
        }

        var (parent, at, path) = slots[random.Next(slots.Count)];
        var lie = Lies[random.Next(Lies.Length)]();
        string how = $"{path} = {Describe(lie)}";
        if (parent is JsonObject o) o[(string)at] = lie;
        else ((JsonArray)parent)[(int)at] = lie;
        return (Encoding.UTF8.GetBytes(root.ToJsonString()), how);
    }

    // Every place a value sits: (its container, key or index, JSON path).
    private static IEnumerable<(JsonNode Parent, object At, string Path)> Slots(JsonNode node, string path)
    {
        if (node is JsonObject o)
        {
            foreach (var (key, value) in o.ToList())
            {
                yield return (o, key, $"{path}.{key}");
                if (value is not null) foreach (var inner in Slots(value, $"{path}.{key}")) yield return inner;
            }
        }
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                yield return (a, i, $"{path}[{i}]");
                if (a[i] is { } value) foreach (var inner in Slots(value, $"{path}[{i}]")) yield return inner;
            }
        }
    }

    private static (byte[], string) BreakText(byte[] seed, Random random)
    {
        string text = Encoding.UTF8.GetString(seed).TrimEnd();
        var lie = (TextLie)random.Next(Enum.GetValues<TextLie>().Length);
        int firstKey = text.IndexOf('"', StringComparison.Ordinal);
        int keyEnd = text.IndexOf('"', firstKey + 1);
        switch (lie)
        {
            case TextLie.RepeatedKey:
                // The first key again, at the end, with another value.
                string key = text[firstKey..(keyEnd + 1)];
                return (Encoding.UTF8.GetBytes(text[..^1] + $",{key}: 12345}}"), $"{key} repeated");
            case TextLie.InvalidUtf8:
            {
                var bytes = Encoding.UTF8.GetBytes(text).ToList();
                bytes.InsertRange(firstKey + 1, random.Next(2) == 0 ? new byte[] { 0xC3, 0x28 } : new byte[] { 0xFF });
                return (bytes.ToArray(), "invalid UTF-8 in the first key");
            }
            case TextLie.LoneSurrogate:
                return (Encoding.UTF8.GetBytes(text.Insert(firstKey + 1, random.Next(2) == 0 ? "\\ud800" : "\\udfff")), "a lone surrogate escape in the first key");
            case TextLie.DeepNesting:
                return (Encoding.UTF8.GetBytes(text[..^1] + ",\"deep\": " + new string('[', 100_000) + new string(']', 100_000) + "}"), "100,000 nested arrays");
            case TextLie.CutOff:
            {
                int at = random.Next(text.Length);
                return (Encoding.UTF8.GetBytes(text[..at]), $"cut off after {at} characters");
            }
            default:
                return (Encoding.UTF8.GetBytes(text + " {\"x\": 1}"), "a second document after the first");
        }
    }

    private static string Describe(JsonNode? value)
    {
        string text = value?.ToJsonString() ?? "null";
        return text.Length > 40 ? $"{text[..30]}… ({text.Length:N0} characters)" : text;
    }
}
