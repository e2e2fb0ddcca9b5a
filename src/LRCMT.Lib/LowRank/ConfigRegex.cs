using System.Text.RegularExpressions;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// A regular expression from a LoRA configuration (PEFT's string <c>target_modules</c>, the keys of <c>rank_pattern</c>
/// and <c>alpha_pattern</c>, <c>modules_to_save</c>, <c>layers_pattern</c>), built in one place so every one runs with a
/// match timeout: a pattern that backtracks catastrophically on a module path ends, within
/// <see cref="MatchTimeout"/>, as an <see cref="InvalidConfigurationException"/> naming the setting, the pattern and the
/// path, instead of hanging. Module paths are short, so a pattern that works takes microseconds; the timeout only ever
/// stops a runaway one.
/// </summary>
internal sealed class ConfigRegex
{
    /// <summary>The longest one match may run.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private readonly Regex _regex;
    private readonly string _setting;
    private readonly string _pattern;

    /// <param name="expression">The whole .NET pattern to run (the setting's pattern inside any anchors the rule adds).</param>
    /// <param name="setting">The setting it comes from, named in errors (e.g. <c>TargetRegex</c>, <c>RankPattern['value']</c>).</param>
    /// <param name="pattern">The pattern as the user wrote it, named in errors.</param>
    /// <param name="options">Options besides culture invariance (which every one gets).</param>
    /// <exception cref="InvalidConfigurationException">The pattern is not a valid regular expression.</exception>
    public ConfigRegex(string expression, string setting, string pattern, RegexOptions options = RegexOptions.None)
    {
        _setting = setting;
        _pattern = pattern;
        try
        {
            _regex = new Regex(expression, options | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new InvalidConfigurationException("LoRA configuration", new SettingProblem(setting, InvalidMessage(pattern, e)));
        }
    }

    /// <summary>Null when <paramref name="pattern"/> is a valid regular expression, else why not (for <c>FindProblems</c>).</summary>
    public static string? Problem(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
            return null;
        }
        catch (ArgumentException e)
        {
            return InvalidMessage(pattern, e);
        }
    }

    /// <exception cref="InvalidConfigurationException">The match ran past <see cref="MatchTimeout"/>.</exception>
    public bool IsMatch(string path)
    {
        try
        {
            return _regex.IsMatch(path);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw TimedOut(path, e);
        }
    }

    /// <exception cref="InvalidConfigurationException">The match ran past <see cref="MatchTimeout"/>.</exception>
    public Match Match(string path)
    {
        try
        {
            return _regex.Match(path);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw TimedOut(path, e);
        }
    }

    private InvalidConfigurationException TimedOut(string path, RegexMatchTimeoutException e) =>
        new("LoRA configuration", new SettingProblem(_setting,
            $"the regular expression '{_pattern}' ran for more than {MatchTimeout.TotalSeconds:0.#} s on the module path '{path}' " +
            "(it backtracks catastrophically); write it without nested or overlapping repetitions"));

    private static string InvalidMessage(string pattern, ArgumentException e) =>
        $"is not a valid regular expression, got '{pattern}' ({(e is RegexParseException parse ? parse.Error.ToString() : e.Message)})";
}
