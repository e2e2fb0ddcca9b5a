using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Checks the keys of a settings file against the properties of <see cref="RunSettings"/> before binding, so a typo
/// is reported with its full path and the closest real key ("LrcmtRun:Training:LearningRat: no such setting; did you
/// mean LrcmtRun:Training:LearningRate?") rather than in the configuration binder's terms.
/// </summary>
internal static class SettingsKeys
{
    /// <summary>One message per key of <paramref name="section"/> that no property of <paramref name="type"/> takes.</summary>
    internal static List<string> UnknownKeys(IConfiguration section, Type type)
    {
        var problems = new List<string>();
        Walk(section, type, problems);
        return problems;
    }

    private static void Walk(IConfiguration section, Type type, List<string> problems)
    {
        foreach (var child in section.GetChildren())
        {
            var childType = ChildType(type, child.Key, out var candidates);
            if (childType is null)
            {
                string? closest = Closest(child.Key, candidates);
                string parent = child.Path[..^child.Key.Length];
                problems.Add(closest is null
                    ? $"{child.Path}: no such setting."
                    : $"{child.Path}: no such setting; did you mean {parent}{closest}?");
                continue;
            }
            if (!IsLeaf(childType)) Walk(child, childType, problems);
        }
    }

    /// <summary>
    /// The type a child key binds to (read-only properties count: a run's config.json lists them, and the binder
    /// ignores them), or null (with the keys that would have been accepted).</summary>
    private static Type? ChildType(Type type, string key, out IReadOnlyList<string> candidates)
    {
        candidates = [];
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsArray) return int.TryParse(key, out _) ? type.GetElementType() : null;
        if (DictionaryValueType(type) is { } valueType) return valueType;
        if (type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type))
            return int.TryParse(key, out _) ? type.GetGenericArguments()[0] : null;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0).ToList();
        candidates = properties.Select(p => p.Name).ToList();
        return properties.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))?.PropertyType;
    }

    /// <summary>The value type of a dictionary (mutable or read-only, e.g. a LoRA rank pattern), or null.</summary>
    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            ?.GetGenericArguments()[1];

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);
    }

    /// <summary>The candidate nearest to <paramref name="key"/> by edit distance, if near enough to be a typo.</summary>
    internal static string? Closest(string key, IReadOnlyList<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int distance = EditDistance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = (candidate, distance);
        }
        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
