using System.Text;
using System.Text.RegularExpressions;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Damages a valid file the ways real files break and hostile ones lie: truncation, byte flips, inserted and deleted
/// runs, and "header lies" that rewrite a number in the file's text (JSON headers, configs) to a hostile value.
/// Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static partial class Mutator
{
    private static readonly string[] LyingNumbers =
    [
        "0", "-1", "1", "-9223372036854775808", "9223372036854775807", "18446744073709551615", "4294967296", "2147483648",
        "60000000", "1e309", "-0", "3.5", "1000000000", "null", "\"x\"", "[]", "{}", "true", "[9223372036854775807,9223372036854775807]",
    ];

    public static (byte[] Bytes, string How) Mutate(byte[] seed, Random random)
    {
        int kind = random.Next(6);
        switch (kind)
        {
            case 0:
            {
                int length = random.Next(seed.Length);
                return (seed[..length], $"truncated to {length} of {seed.Length} bytes");
            }
            case 1:
            {
                var copy = (byte[])seed.Clone();
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                return (copy, $"{flips} bit flips");
            }
            case 2:
            {
                var copy = (byte[])seed.Clone();
                int count = 1 + random.Next(4);
                for (int i = 0; i < count; i++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
                return (copy, $"{count} random bytes");
            }
            case 3:
            {
                int at = random.Next(seed.Length), length = 1 + random.Next(Math.Min(64, seed.Length - at));
                return ([.. seed[..at], .. seed[(at + length)..]], $"deleted {length} bytes at {at}");
            }
            case 4:
            {
                int at = random.Next(seed.Length + 1);
                var junk = new byte[1 + random.Next(32)];
                random.NextBytes(junk);
                return ([.. seed[..at], .. junk, .. seed[at..]], $"inserted {junk.Length} bytes at {at}");
            }
            default:
                return LieAboutANumber(seed, random);
        }
    }

    /// <summary>Replaces one run of ASCII digits (a size, offset, count or id in a text header) by a hostile value.</summary>
    private static (byte[], string) LieAboutANumber(byte[] seed, Random random)
    {
        // Only the leading text part (safetensors header, JSON files, vocab) is searched; binary payloads rarely hold digits that matter.
        string text = Encoding.Latin1.GetString(seed, 0, Math.Min(seed.Length, 1 << 16));
        var numbers = Digits().Matches(text);
        if (numbers.Count == 0) return Mutate(seed, random);
        var target = numbers[random.Next(numbers.Count)];
        string lie = LyingNumbers[random.Next(LyingNumbers.Length)];
        var replacement = Encoding.Latin1.GetBytes(lie);
        return ([.. seed[..target.Index], .. replacement, .. seed[(target.Index + target.Length)..]],
            $"number '{target.Value}' at {target.Index} replaced by {lie}");
    }

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex Digits();
}
