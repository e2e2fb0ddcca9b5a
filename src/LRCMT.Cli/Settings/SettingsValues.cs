using System.Collections;
using System.Reflection;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Value checks that hold for every setting, whatever its section: numbers are finite (the configuration binder
/// accepts "Infinity" and "NaN") and enum values are named members (it accepts any number).
/// </summary>
internal static class SettingsValues
{
    /// <summary>One message per non-finite number or undefined enum value reachable from <paramref name="settings"/>.</summary>
    internal static List<string> Problems(object settings)
    {
        var problems = new List<string>();
        Walk(settings, "", problems, depth: 0);
        return problems;
    }

    private static void Walk(object value, string path, List<string> problems, int depth)
    {
        if (depth > 8) return;
        switch (value)
        {
            case double d when !double.IsFinite(d):
                problems.Add($"{path} must be a finite number (was {d}).");
                return;
            case float f when !float.IsFinite(f):
                problems.Add($"{path} must be a finite number (was {f}).");
                return;
            case Enum e when !Enum.IsDefined(e.GetType(), e):
                problems.Add($"{path} must be one of {string.Join(", ", Enum.GetNames(e.GetType()))} (was {e}).");
                return;
            case string or ValueType:
                return;
            case IEnumerable items:
                int index = 0;
                foreach (var item in items)
                {
                    if (item is not null) Walk(item, $"{path}[{index}]", problems, depth + 1);
                    index++;
                }
                return;
        }
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null) continue;
            if (property.GetValue(value) is { } child)
                Walk(child, path.Length == 0 ? property.Name : $"{path}.{property.Name}", problems, depth + 1);
        }
    }
}
