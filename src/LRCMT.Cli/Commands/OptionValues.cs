using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.Cli.Commands;

/// <summary>
/// Options whose values are parsed here rather than by System.CommandLine's converters, so a wrong value gets a
/// message in the user's terms ("--epochs expects a whole number from 1 to 100000, got 'many'") instead of a .NET
/// type name, and out-of-range values, unknown names and infinities are refused while the command line is parsed.
/// </summary>
internal static class OptionValues
{
    /// <summary>
    /// An optional whole-number flag whose value is checked by <paramref name="rule"/> — the library's rule for the
    /// setting the flag sets (<c>SettingRules</c>), called with the flag's name as the path, so the flag and the settings
    /// file report a bad value with the same message.
    /// </summary>
    internal static Option<int?> Int(string name, string description, Func<string, long, SettingProblem?> rule, params string[] aliases)
    {
        var option = new Option<int?>(name, aliases) { Description = description };
        option.CustomParser = result =>
        {
            string text = Single(result);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            {
                result.AddError($"{name} expects a whole number, got '{text}'.");
                return null;
            }
            if (rule(name, value) is { } problem)
            {
                result.AddError(problem.ToString());
                return null;
            }
            return value;
        };
        return option;
    }

    /// <summary>A flag taking one of a few words (case-sensitive, as written in the help).</summary>
    internal static Option<string?> OneOf(string name, string description, params string[] words)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = string.Join("|", words) };
        option.CustomParser = result =>
        {
            string text = Single(result);
            if (words.Contains(text)) return text;
            result.AddError($"{name} expects {string.Join(" or ", words)}, got '{text}'.");
            return null;
        };
        return option;
    }

    /// <summary>An optional flag naming one member of <typeparamref name="T"/> (case-insensitive; numbers are refused).</summary>
    internal static Option<T?> Name<T>(string name, string description) where T : struct, Enum
    {
        var option = new Option<T?>(name) { Description = description, HelpName = string.Join("|", Enum.GetNames<T>()) };
        option.CustomParser = result => Parse<T>(name, Single(result), result);
        return option;
    }

    /// <summary>A flag taking one or more members of <typeparamref name="T"/>.</summary>
    internal static Option<T[]> Names<T>(string name, string description) where T : struct, Enum
    {
        var option = new Option<T[]>(name)
        {
            Description = description, HelpName = string.Join("|", Enum.GetNames<T>()), AllowMultipleArgumentsPerToken = true,
        };
        option.CustomParser = result => result.Tokens.Select(t => Parse<T>(name, t.Value, result)).OfType<T>().ToArray();
        return option;
    }

    /// <summary>The member of <typeparamref name="T"/> called <paramref name="text"/>, or null with an error listing the names.</summary>
    private static T? Parse<T>(string name, string text, ArgumentResult result) where T : struct, Enum
    {
        // The settings file's rule, so a flag and a file refuse the same word with the same message.
        if (SettingRules.Named(name, text, typeof(T)) is { } problem)
        {
            result.AddError(problem.ToString());
            return null;
        }
        return Enum.Parse<T>(Enum.GetNames<T>().First(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase)));
    }

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}
