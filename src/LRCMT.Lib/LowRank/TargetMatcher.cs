using System.Text.RegularExpressions;

namespace LRCMT.LowRank;

/// <summary>
/// Decides, from a <see cref="LoRAConfig"/>, which module paths get an adapter and with which rank and alpha.
/// Rules follow PEFT: a name list matches a path equal to an entry or ending with '.' + entry; a regex must match the
/// whole path; rank/alpha pattern keys match a path ending with the key (after a '.').
/// </summary>
internal sealed class TargetMatcher
{
    // PEFT's default layer containers: "layers", "h", "block", "blocks", "layer".
    private static readonly Regex LayerIndex = new(@"(?:^|\.)(?:layers|layer|h|blocks|block)\.(\d+)(?:\.|$)", RegexOptions.CultureInvariant);

    private readonly LoRAConfig _config;
    private readonly Regex? _targetRegex;

    public TargetMatcher(LoRAConfig config)
    {
        _config = config;
        if (!string.IsNullOrWhiteSpace(config.TargetRegex))
            _targetRegex = new Regex($"^(?:{config.TargetRegex})$", RegexOptions.CultureInvariant);
    }

    /// <summary>Whether the module at <paramref name="path"/> should carry the adapter.</summary>
    public bool IsTarget(string path)
    {
        bool named = _targetRegex?.IsMatch(path) ?? MatchesAny(_config.TargetModules, path);
        if (!named || MatchesAny(_config.ExcludeModules, path)) return false;
        if (_config.LayersToTransform is not { } layers) return true;
        return LayerOf(path) is { } index && layers.Contains(index);
    }

    /// <summary>Whether <paramref name="path"/> is one of <see cref="LoRAConfig.ModulesToSave"/>.</summary>
    public bool IsModuleToSave(string path) => MatchesAny(_config.ModulesToSave, path);

    /// <summary>The configuration to use for the adapter at <paramref name="path"/>: rank and alpha after pattern overrides.</summary>
    public LoRAConfig ConfigFor(string path) => _config with
    {
        Rank = Override(_config.RankPattern, path) ?? _config.Rank,
        Alpha = Override(_config.AlphaPattern, path) ?? _config.Alpha,
    };

    /// <summary>List rule: equal to an entry, or ends with '.' + entry.</summary>
    public static bool MatchesAny(IEnumerable<string> names, string path)
        => names.Any(n => path == n || path.EndsWith("." + n, StringComparison.Ordinal));

    /// <summary>The layer index in a path such as <c>encoder.layer.3.attention</c>, or null.</summary>
    public static int? LayerOf(string path)
    {
        var match = LayerIndex.Match(path);
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static T? Override<T>(Dictionary<string, T> pattern, string path) where T : struct
    {
        foreach (var (key, value) in pattern)
            if (Regex.IsMatch(path, $"^(?:.*\\.)?(?:{key})$", RegexOptions.CultureInvariant)) return value;
        return null;
    }
}
