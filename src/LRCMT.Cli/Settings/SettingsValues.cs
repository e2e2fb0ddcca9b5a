using System.Collections;
using System.Reflection;
using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Value checks that hold for every setting, whatever its section: numbers are finite (the configuration binder
/// accepts "Infinity" and "NaN") and enum values are named members (it accepts any number).
/// </summary>
internal static class SettingsValues
{
    private static readonly MethodInfo DefinedRule = typeof(SettingRules).GetMethod(nameof(SettingRules.Defined))!;

    /// <summary>One message per non-finite number or undefined enum value reachable from <paramref name="settings"/>.</summary>
    internal static List<SettingProblem> Problems(object settings)
    {
        var problems = new List<SettingProblem>();
        Walk(settings, "", problems, depth: 0);
        return problems;
    }

    private static void Walk(object value, string path, List<SettingProblem> problems, int depth)
    {
        if (depth > 8) return;
        switch (value)
        {
            case double d when SettingRules.Finite(path, d) is { } problem:
                problems.Add(problem);
                return;
            case float f when SettingRules.Finite(path, f) is { } problem:
                problems.Add(problem);
                return;
            case Enum e when !Enum.IsDefined(e.GetType(), e):
                problems.Add((SettingProblem)DefinedRule.MakeGenericMethod(e.GetType()).Invoke(null, [path, e])!);
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
