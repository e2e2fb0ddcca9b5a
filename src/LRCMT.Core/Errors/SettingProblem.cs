namespace LRCMT.Errors;

/// <summary>
/// One invalid setting: where it is (a dotted path such as <c>Fusion.Heads</c>, or a flag such as <c>--lora-rank</c>)
/// and what is wrong with it. Every options type reports its problems as a list of these, and
/// <see cref="InvalidConfigurationException"/> carries them, so callers sort or filter problems by
/// <see cref="Path"/>, never by message text.
/// </summary>
/// <param name="Path">The setting's dotted path; empty when the problem concerns the whole object being checked.</param>
/// <param name="Message">What is wrong, e.g. <c>must divide Fusion.Width (50), got 7</c>.</param>
public sealed record SettingProblem(string Path, string Message)
{
    /// <summary>The same problem seen from an enclosing section: <c>Heads</c> under <c>Fusion</c> becomes <c>Fusion.Heads</c>.</summary>
    public SettingProblem Within(string section) =>
        string.IsNullOrEmpty(section) ? this : this with { Path = Path.Length == 0 ? section : $"{section}.{Path}" };

    /// <summary><c>Path: Message</c>, or the message alone when the path is empty.</summary>
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}
