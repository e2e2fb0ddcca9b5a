using System.Collections;
using System.Globalization;
using System.Reflection;
using LRCMT.Configuration;
using LRCMT.Errors;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Checks a settings file against the properties of <see cref="RunSettings"/> before binding, so that every problem
/// of the file is found in one pass and named in the user's terms: a typo with its full path and the closest real key
/// ("LrcmtRun:Training:LearningRat: no such setting; did you mean LrcmtRun:Training:LearningRate?"), and a value that
/// is not of its setting's kind at the setting's path ("Training.Decay: must be one of Linear, Cosine, Constant, got
/// 'Cosin'") rather than as the configuration binder's first exception. The keys found wrong are left out of what is
/// bound (<see cref="WithoutProblems"/>), so the value rules can still report the rest of the file.
/// </summary>
internal static class SettingsKeys
{
    /// <summary>
    /// One problem per key of <paramref name="section"/> that no setting takes (path: the key's full configuration path)
    /// and per value that cannot be read as its setting's type (path: the setting's dotted path, as the value rules
    /// name it). <paramref name="prefix"/> is the section's own configuration path ("" or "LrcmtRun").
    /// </summary>
    internal static List<(string Key, SettingProblem Problem)> Problems(IConfiguration section, Type type, string prefix)
    {
        var problems = new List<(string, SettingProblem)>();
        Walk(section, type, prefix, problems);
        return problems;
    }

    /// <summary>
    /// The same settings without the keys <see cref="Problems"/> found wrong (and anything under them), as a configuration
    /// whose root is <paramref name="section"/>: what is left binds without the binder's exceptions.
    /// </summary>
    internal static IConfiguration WithoutProblems(IConfiguration section, IEnumerable<string> badKeys, string prefix)
    {
        var bad = badKeys.Select(k => Relative(k, prefix)).ToList();
        var kept = section.AsEnumerable(makePathsRelative: true)
            .Where(pair => !bad.Any(b => pair.Key.Equals(b, StringComparison.OrdinalIgnoreCase)
                                       || pair.Key.StartsWith(b + ":", StringComparison.OrdinalIgnoreCase)));
        return new ConfigurationBuilder().AddInMemoryCollection(kept).Build();
    }

    private static void Walk(IConfiguration section, Type type, string prefix, List<(string, SettingProblem)> problems)
    {
        foreach (var child in section.GetChildren())
        {
            var childType = ChildType(type, child.Key, out var candidates);
            if (childType is null)
            {
                problems.Add((child.Path, new SettingProblem(child.Path, UnknownKey(child, candidates, prefix))));
                continue;
            }
            if (!IsLeaf(childType))
            {
                Walk(child, childType, prefix, problems);
                continue;
            }
            string path = DottedPath(child.Path, prefix);
            var problem = child.GetChildren().Any()
                ? new SettingProblem(path, "must be a single value, got a section")
                : ValueProblem(path, child.Value, childType);
            if (problem is not null) problems.Add((child.Path, problem));
        }
    }

    private static string UnknownKey(IConfigurationSection key, IReadOnlyList<string> candidates, string prefix)
    {
        // The library's own options bind from "Lrcmt"; a file written for services.AddLrcmt is a likely mistake here.
        if (prefix.Length == 0 && key.Path.Equals(LrcmtOptions.SectionName, StringComparison.OrdinalIgnoreCase))
            return $"no such setting: '{LrcmtOptions.SectionName}' is where the library's LrcmtOptions bind (services.AddLrcmt); " +
                   $"the tool reads its settings from a '{RunSettingsFile.SectionName}' section (the model under " +
                   $"{RunSettingsFile.SectionName}:Model) or from the file's root";
        string? closest = Closest(key.Key, candidates);
        string parent = key.Path[..^key.Key.Length];
        return closest is null ? "no such setting" : $"no such setting; did you mean {parent}{closest}?";
    }

    /// <summary>Whether a file's text can be read as <paramref name="type"/>, as the configuration binder reads it.</summary>
    private static SettingProblem? ValueProblem(string path, string? text, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (text is null || (text.Length == 0 && underlying is not null)) return null; // JSON null: the setting's default
        type = underlying ?? type;
        if (type.IsEnum) return SettingRules.Named(path, text, type);
        if (type == typeof(bool))
            return bool.TryParse(text, out _) ? null : new SettingProblem(path, $"must be true or false, got '{text}'");
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long whole))
                return new SettingProblem(path, $"must be a whole number, got '{text}'");
            return Fits(whole, type) ? null : new SettingProblem(path, $"must be a whole number from {MinOf(type)} to {MaxOf(type)}, got '{text}'");
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null
                : new SettingProblem(path, $"must be a number, got '{text}'");
        return null;
    }

    private static bool Fits(long value, Type type) => value >= MinOf(type) && value <= MaxOf(type);

    private static long MaxOf(Type type) => type == typeof(int) ? int.MaxValue : type == typeof(short) ? short.MaxValue : type == typeof(byte) ? byte.MaxValue : long.MaxValue;

    private static long MinOf(Type type) => type == typeof(int) ? int.MinValue : type == typeof(short) ? short.MinValue : type == typeof(byte) ? byte.MinValue : long.MinValue;

    /// <summary>"LrcmtRun:Model:LoRA:TargetModules:0" under "LrcmtRun" → "Model.LoRA.TargetModules[0]" (the value rules' form).</summary>
    private static string DottedPath(string key, string prefix)
    {
        var parts = Relative(key, prefix).Split(':');
        var path = new System.Text.StringBuilder();
        foreach (var part in parts)
        {
            if (int.TryParse(part, out _)) path.Append('[').Append(part).Append(']');
            else path.Append(path.Length == 0 ? "" : ".").Append(part);
        }
        return path.ToString();
    }

    private static string Relative(string key, string prefix) =>
        prefix.Length > 0 && key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase) ? key[(prefix.Length + 1)..] : key;

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
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(DateTime);
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
