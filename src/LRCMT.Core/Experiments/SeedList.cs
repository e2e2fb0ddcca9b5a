using System.Globalization;
using LRCMT.Errors;

namespace LRCMT.Experiments;

/// <summary>
/// Parses a seed list as the CLI's <c>--seeds</c> takes it: a single count <c>N</c> means seeds 1…N (MMSA's
/// <c>-s</c> style), a comma-separated list means exactly those seeds (<c>1,2,3</c>; a single seed 7 as <c>7,</c>).
/// </summary>
public static class SeedList
{
    /// <summary>The most seeds a count may ask for.</summary>
    public const int MaxCount = 1000;

    /// <summary>The seeds <paramref name="text"/> names, in order.</summary>
    /// <exception cref="InvalidConfigurationException">Empty, not integers, a count outside 1…<see cref="MaxCount"/>, a negative or repeated seed.</exception>
    public static IReadOnlyList<int> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool isList = text.Contains(',');
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new InvalidConfigurationException("seeds", $"'{text}' names no seed; give a count (5) or a list (1,2,3).");
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                throw new InvalidConfigurationException("seeds", $"'{part}' is not an integer; give a count (5) or a list (1,2,3).");
            values.Add(value);
        }
        if (!isList)
        {
            int count = values[0];
            if (count is < 1 or > MaxCount)
                throw new InvalidConfigurationException("seeds", $"a count of seeds must lie in [1, {MaxCount}] (was {count}); for one particular seed write it as a list ('7,') or use --seed.");
            return Enumerable.Range(1, count).ToArray();
        }
        if (values.FirstOrDefault(v => v < 0) is var negative && negative < 0)
            throw new InvalidConfigurationException("seeds", $"seeds must be 0 or more (got {negative}).");
        var repeated = values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0)
            throw new InvalidConfigurationException("seeds", $"seed {repeated[0]} is listed twice.");
        return values;
    }
}
