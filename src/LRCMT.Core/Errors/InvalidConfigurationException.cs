namespace LRCMT.Errors;

/// <summary>
/// A configuration (builder, options, LoRA settings, trainer options, a settings file) is invalid;
/// <see cref="Problems"/> lists every problem found, each with the path of its setting.
/// </summary>
public sealed class InvalidConfigurationException : LrcmtException
{
    /// <summary>Creates the exception from one or more problems.</summary>
    /// <param name="what">What was checked, e.g. <c>LRCMT options</c>.</param>
    /// <param name="problems">Every problem found (at least one).</param>
    public InvalidConfigurationException(string what, IReadOnlyList<SettingProblem> problems)
        : base($"Invalid {what}: " + Describe(problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception from a single problem.</summary>
    public InvalidConfigurationException(string what, SettingProblem problem) : this(what, new[] { problem }) { }

    /// <summary>Creates the exception from a single problem that concerns <paramref name="what"/> as a whole (its path is empty).</summary>
    public InvalidConfigurationException(string what, string problem) : this(what, new SettingProblem("", problem)) { }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<SettingProblem> Problems { get; }

    private static string Describe(IReadOnlyList<SettingProblem> problems) =>
        problems.Count == 1 ? problems[0].ToString() : string.Join(" ", problems.Select((p, i) => $"({i + 1}) {p}."));
}
