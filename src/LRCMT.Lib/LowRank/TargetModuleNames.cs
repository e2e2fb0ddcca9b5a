using System.Text.RegularExpressions;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// Chooses the <c>target_modules</c> to write so that PEFT's matching rule (<see cref="TargetMatcher"/>) selects exactly
/// the adapted modules of a model: for each one the shortest path suffix that selects nothing else, else its full
/// path; if that does not reproduce the set, a regex of the full paths. The result is re-matched before it is used.
/// </summary>
internal static class TargetModuleNames
{
    /// <summary>What to write: a name list, or a full-match regex; and whether the exclude/layer filters were kept.</summary>
    public sealed record Choice(List<string>? Names, string? Regex, bool KeepsFilters);

    /// <param name="adapted">PEFT paths that carry the adapter.</param>
    /// <param name="moduleNames">Every module name PEFT would see in the base model.</param>
    /// <param name="filters">The adapter's exclude_modules, layers_to_transform, layers_pattern and modules_to_save.</param>
    /// <exception cref="AdapterException">No target_modules value reproduces the adapted set (an adapted module is a module to save).</exception>
    public static Choice Choose(IReadOnlyCollection<string> adapted, IReadOnlyList<string> moduleNames, LoRAConfig filters)
    {
        var wanted = adapted.ToHashSet(StringComparer.Ordinal);
        var noFilters = filters with { ExcludeModules = [], LayersToTransform = null, LayersPattern = null };
        foreach (var (config, keeps) in new[] { (filters, true), (noFilters, false) })
        {
            var names = Suffixes(wanted, moduleNames, config);
            if (Selects(config with { TargetModules = names, TargetRegex = null }, moduleNames).SetEquals(wanted))
                return new Choice(names, null, keeps);
        }
        var regex = string.Join("|", wanted.Order(StringComparer.Ordinal).Select(System.Text.RegularExpressions.Regex.Escape));
        if (Selects(noFilters with { TargetModules = [], TargetRegex = regex }, moduleNames).SetEquals(wanted))
            return new Choice(null, regex, false);
        throw new AdapterException(null,
            "no target_modules value makes PEFT select exactly the adapted modules (is an adapted module also a module to save?).");
    }

    /// <summary>The paths among <paramref name="moduleNames"/> that PEFT's rule selects under <paramref name="config"/>.</summary>
    public static HashSet<string> Selects(LoRAConfig config, IEnumerable<string> moduleNames)
    {
        var matcher = new TargetMatcher(config);
        return moduleNames.Where(matcher.IsTarget).ToHashSet(StringComparer.Ordinal);
    }

    private static List<string> Suffixes(HashSet<string> wanted, IReadOnlyList<string> moduleNames, LoRAConfig config)
    {
        var chosen = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in wanted.Order(StringComparer.Ordinal))
        {
            if (chosen.Any(c => path == c || path.EndsWith("." + c, StringComparison.Ordinal))) continue;
            var segments = path.Split('.');
            string pick = path;
            for (int k = 1; k <= segments.Length; k++)
            {
                var suffix = string.Join('.', segments[^k..]);
                if (Selects(config with { TargetModules = [suffix], TargetRegex = null }, moduleNames).IsSubsetOf(wanted))
                {
                    pick = suffix;
                    break;
                }
            }
            chosen.Add(pick);
        }
        return chosen.ToList();
    }
}
