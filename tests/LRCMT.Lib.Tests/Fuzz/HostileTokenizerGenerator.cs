using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LRCMT.Tests.TestSupport;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Hostile <c>tokenizer.json</c> files, one class at a time, made from the two fixture tokenizers (a cased WordPiece
/// and the tiny RoBERTa BPE) by our own random edits: invalid UTF-8 inside a string, lone-surrogate escapes, ids that lie
/// (negative, huge, past the vocabulary, wrapped, not integers) wherever a file carries one, duplicate ids, and
/// padding lengths no model can take. <see cref="HostileTokenizerTests"/> loads each.
/// </summary>
public static class HostileTokenizerGenerator
{
    public enum Hostility
    {
        InvalidUtf8,
        LoneSurrogate,
        IdLie,
        DuplicateId,
        HugeLength,
    }

    /// <summary>One hostile file: its bytes, whether it is WordPiece (else BPE), what was done, and whether it must be refused.</summary>
    public sealed record Case(byte[] Bytes, bool WordPiece, string How, bool MustFail);

    private static readonly object?[] LyingValues =
        [-1, int.MinValue, int.MaxValue, 1 << 20, (1 << 20) - 1, 4_294_967_296L, 1e300, 2.5, "3", null, true];

    public static Case Make(Hostility hostility, Random random)
    {
        var wordPiece = random.Next(2) == 0;
        var root = Seed(wordPiece);
        var vocab = root["model"]!["vocab"]!.AsObject();
        return hostility switch
        {
            Hostility.InvalidUtf8 => InvalidUtf8(root, wordPiece, random),
            Hostility.LoneSurrogate => LoneSurrogate(root, wordPiece, random),
            Hostility.IdLie => IdLie(root, vocab, wordPiece, random),
            Hostility.DuplicateId => DuplicateId(root, vocab, wordPiece, random),
            Hostility.HugeLength => HugeLength(root, wordPiece, random),
            _ => throw new ArgumentOutOfRangeException(nameof(hostility)),
        };
    }

    public static JsonObject Seed(bool wordPiece) =>
        JsonNode.Parse(File.ReadAllText(wordPiece ? Fixtures.File("tokenizer", "bert-cased", "tokenizer.json") : Fixtures.File("roberta", "tokenizer.json")))!.AsObject();

    private static Case InvalidUtf8(JsonObject root, bool wordPiece, Random random)
    {
        byte[][] invalid = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80]];
        var bytes = Encoding.UTF8.GetBytes(root.ToJsonString()).ToList();
        // Inside a string: right after an opening quote of a key of the vocabulary.
        var quotes = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == (byte)'"').ToList();
        var at = quotes[random.Next(quotes.Count / 2) * 2] + 1;
        var bad = invalid[random.Next(invalid.Length)];
        bytes.InsertRange(at, bad);
        return new Case([.. bytes], wordPiece, $"bytes {Convert.ToHexString(bad)} at {at}", MustFail: true);
    }

    private static Case LoneSurrogate(JsonObject root, bool wordPiece, Random random)
    {
        var escape = random.Next(2) == 0 ? $"\\uD{random.Next(0x800, 0xC00):X3}" : $"\\uD{random.Next(0xC00, 0x1000):X3}";
        var marker = "LONE_SURROGATE_HERE";
        var where = random.Next(3);
        string how;
        if (where == 0)
        {
            var vocab = root["model"]!["vocab"]!.AsObject();
            var key = vocab.ElementAt(random.Next(vocab.Count)).Key;
            var id = vocab[key]!.GetValue<int>();
            vocab.Remove(key);
            vocab[key + marker] = id;
            how = $"vocab key '{key}' + {escape}";
        }
        else if (where == 1)
        {
            var added = root["added_tokens"]!.AsArray();
            var token = added[random.Next(added.Count)]!;
            token["content"] = token["content"]!.GetValue<string>() + marker;
            how = $"added token content + {escape}";
        }
        else
        {
            root["model"]!["unk_token"] = (wordPiece ? "[UNK]" : "<unk>") + marker;
            how = $"unk_token + {escape}";
        }

        return new Case(Encoding.UTF8.GetBytes(root.ToJsonString().Replace(marker, escape, StringComparison.Ordinal)), wordPiece, how, MustFail: true);
    }

    private static Case IdLie(JsonObject root, JsonObject vocab, bool wordPiece, Random random)
    {
        var value = random.Next(3) == 0 ? vocab.Count + random.Next(-2, 3) : LyingValues[random.Next(LyingValues.Length)];
        JsonNode? node = value switch { null => null, int i => i, long l => l, double d => d, string s => s, bool b => b, _ => throw new InvalidOperationException() };
        string how;
        switch (random.Next(wordPiece ? 6 : 4))
        {
            case 0:
                var key = vocab.ElementAt(random.Next(vocab.Count)).Key;
                vocab[key] = node;
                how = $"model.vocab['{key}'] = {value}";
                break;
            case 1:
                var added = root["added_tokens"]!.AsArray();
                var index = random.Next(added.Count);
                added[index]!["id"] = node;
                how = $"added_tokens[{index}].id = {value}";
                break;
            case 2:
                root["padding"] = Padding(wordPiece);
                root["padding"]![random.Next(2) == 0 ? "pad_id" : "pad_type_id"] = node;
                how = $"padding id = {value}";
                break;
            case 3:
                if (wordPiece)
                {
                    var name = random.Next(2) == 0 ? "[CLS]" : "[SEP]";
                    root["post_processor"]!["special_tokens"]![name]!["ids"]![0] = node;
                    how = $"template {name} id = {value}";
                }
                else
                {
                    var name = random.Next(2) == 0 ? "cls" : "sep";
                    root["post_processor"]![name]![1] = node;
                    how = $"RobertaProcessing {name} id = {value}";
                }

                break;
            case 4:
                var piece = random.Next(3);
                var single = root["post_processor"]!["single"]![piece]!;
                (single["SpecialToken"] ?? single["Sequence"])!["type_id"] = node;
                how = $"template piece {piece} type_id = {value}";
                break;
            default:
                root["model"]!["max_input_chars_per_word"] = node;
                how = $"max_input_chars_per_word = {value}";
                break;
        }

        return new Case(Encoding.UTF8.GetBytes(root.ToJsonString()), wordPiece, how, MustFail: false);
    }

    private static Case DuplicateId(JsonObject root, JsonObject vocab, bool wordPiece, Random random)
    {
        var first = random.Next(vocab.Count);
        var second = (first + 1 + random.Next(vocab.Count - 1)) % vocab.Count;
        var (keyA, keyB) = (vocab.ElementAt(first).Key, vocab.ElementAt(second).Key);
        vocab[keyB] = vocab[keyA]!.GetValue<int>();
        return new Case(Encoding.UTF8.GetBytes(root.ToJsonString()), wordPiece, $"'{keyB}' gets the id of '{keyA}'", MustFail: true);
    }

    private static Case HugeLength(JsonObject root, bool wordPiece, Random random)
    {
        var length = random.Next(4) switch { 0 => int.MaxValue, 1 => (1 << 16) + 1, 2 => random.Next((1 << 16) + 1, int.MaxValue), _ => 1 << 30 };
        var padding = Padding(wordPiece);
        var fixedLength = random.Next(2) == 0;
        if (fixedLength) padding["strategy"] = new JsonObject { ["Fixed"] = length };
        else padding["pad_to_multiple_of"] = length;
        root["padding"] = padding;
        return new Case(Encoding.UTF8.GetBytes(root.ToJsonString()), wordPiece, $"{(fixedLength ? "Fixed" : "pad_to_multiple_of")} = {length.ToString(CultureInfo.InvariantCulture)}", MustFail: true);
    }

    private static JsonObject Padding(bool wordPiece) => new()
    {
        ["strategy"] = "BatchLongest", ["direction"] = "Right", ["pad_to_multiple_of"] = null,
        ["pad_id"] = wordPiece ? 0 : 1, ["pad_type_id"] = 0, ["pad_token"] = wordPiece ? "[PAD]" : "<pad>",
    };
}
