using LRCMT.Errors;
using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Configuration;

/// <summary>
/// Binds configuration onto settings that already hold defaults, so that a configured list replaces its default:
/// the configuration binder alone appends configured items to a list that is already there (LoRA targets
/// <c>["key"]</c> would become query, value and key).
/// </summary>
internal static class ConfigurationLists
{
    /// <summary>Binds <paramref name="section"/> onto <paramref name="target"/>, then sets every configured list anew.</summary>
    public static void Bind(IConfiguration section, object target)
    {
        try
        {
            section.Bind(target);
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key, the value and the type it expected; keep it, typed as the library's.
            throw new InvalidConfigurationException((section as IConfigurationSection)?.Path is { Length: > 0 } path ? $"configuration section '{path}'" : "configuration", e.Message);
        }
        ReplaceConfigured(section, target, depth: 0);
    }

    private static void ReplaceConfigured(IConfiguration section, object target, int depth)
    {
        if (depth > 8) return;
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0) continue;
            var child = section.GetSection(property.Name);
            if (!child.GetChildren().Any()) continue;
            var type = property.PropertyType;
            if (IsList(type)) property.SetValue(target, child.Get(type));
            else if (!IsLeaf(type) && property.GetValue(target) is { } value) ReplaceConfigured(child, value, depth + 1);
        }
    }

    private static bool IsList(Type type) =>
        type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type)
        && !type.GetInterfaces().Append(type).Any(i => i.IsGenericType
            && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));

    private static bool IsLeaf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal);
    }
}
