using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace LRCMT.LowRank;

/// <summary>
/// Decides, from a <see cref="LoRAConfig"/>, which module paths get an adapter and with which rank and alpha.
/// The rules are PEFT's <c>check_target_module_exists</c>, step by step: an excluded module (list: equal or ending
/// with '.' + entry; a string: full-match regex) or a module to save (or anything under one) is never a target; a
/// target string is a full-match regex; a target list matches a path equal to an entry or ending with '.' + entry,
/// and only for lists <c>layers_to_transform</c> then filters by the layer index. <see cref="LoRAConfig.AllLinear"/>
/// first becomes the list of every linear module's full path (PEFT's <c>_maybe_include_all_linear_layers</c>).
/// </summary>
internal sealed class TargetMatcher
{
    private static readonly string[] SequenceClassificationHeads = ["score", "classifier"];

    private readonly LoRAConfig _config;
    private readonly ConfigRegex? _targetRegex;
    private readonly IReadOnlyCollection<string> _targetNames;
    private readonly ConfigRegex[] _modulesToSave;
    private readonly (ConfigRegex Key, int Rank)[] _rankPattern;
    private readonly (ConfigRegex Key, double Alpha)[] _alphaPattern;
    private readonly ConfigRegex[]? _layerPatterns;

    public TargetMatcher(LoRAConfig config, nn.Module? model = null)
    {
        _config = config;
        if (config.TargetsAllLinear)
            _targetNames = model is null ? [] : AllLinearPaths(model, config.TaskType);
        else
        {
            _targetNames = config.TargetModules;
            if (!string.IsNullOrWhiteSpace(config.TargetRegex))
                _targetRegex = new ConfigRegex($"^(?:{config.TargetRegex})$", nameof(LoRAConfig.TargetRegex), config.TargetRegex);
        }
        // PEFT: re.match(rf"(^|.*\.){m}($|\..*)", key) — the module itself or anything inside it.
        _modulesToSave = config.ModulesToSave
            .Select((m, i) => new ConfigRegex($"^(?:|.*\\.)(?:{m})(?:$|\\..*)", $"{nameof(LoRAConfig.ModulesToSave)}[{i}]", m, RegexOptions.Singleline)).ToArray();
        _rankPattern = config.RankPattern.Select(kv => (PatternKey(nameof(LoRAConfig.RankPattern), kv.Key), kv.Value)).ToArray();
        _alphaPattern = config.AlphaPattern.Select(kv => (PatternKey(nameof(LoRAConfig.AlphaPattern), kv.Key), kv.Value)).ToArray();
        _layerPatterns = config.LayersPattern is { Count: > 0 } patterns ? LayerPatterns(patterns) : null;
    }

    private static ConfigRegex PatternKey(string setting, string key) => new($"^(?:.*\\.)?(?:{key})$", $"{setting}['{key}']", key);

    /// <summary>The concrete target list after resolving <see cref="LoRAConfig.AllLinear"/> (what PEFT writes back as target_modules).</summary>
    public IReadOnlyCollection<string> TargetNames => _targetNames;

    /// <summary>Whether the module at <paramref name="path"/> should carry the adapter.</summary>
    public bool IsTarget(string path)
    {
        if (MatchesAny(_config.ExcludeModules, path)) return false;
        if (_modulesToSave.Any(r => r.IsMatch(path))) return false;
        if (_targetRegex is not null) return _targetRegex.IsMatch(path);
        if (!MatchesAny(_targetNames, path)) return false;
        if (_config.LayersToTransform is not { Count: > 0 } layers) return true;
        return LayerOf(path, _layerPatterns) is { } index && layers.Contains(index);
    }

    /// <summary>Whether <paramref name="path"/> is one of <see cref="LoRAConfig.ModulesToSave"/>.</summary>
    public bool IsModuleToSave(string path) => MatchesAny(_config.ModulesToSave, path);

    /// <summary>The configuration to use for the adapter at <paramref name="path"/>: rank and alpha after pattern overrides.</summary>
    public LoRAConfig ConfigFor(string path) => _config with
    {
        Rank = Override(_rankPattern, path) ?? _config.Rank,
        Alpha = Override(_alphaPattern, path) ?? _config.Alpha,
    };

    /// <summary>List rule: equal to an entry, or ends with '.' + entry.</summary>
    public static bool MatchesAny(IEnumerable<string> names, string path)
        => names.Any(n => path == n || path.EndsWith("." + n, StringComparison.Ordinal));

    /// <summary>
    /// PEFT's layer index of a path: without patterns, the first number segment that follows at least two segments
    /// (<c>re.match(r".*?\.[^.]*\.(\d+)\.")</c>, so <c>encoder.layer.3.attention</c> gives 3); with patterns, the number
    /// after the first pattern that matches (<c>.*?\.{pattern}\.(\d+)\.</c>). A number must be followed by a '.'.
    /// </summary>
    public static int? LayerOf(string path, IReadOnlyList<string>? patterns = null) =>
        LayerOf(path, patterns is { Count: > 0 } ? LayerPatterns(patterns) : null);

    private static ConfigRegex[] LayerPatterns(IReadOnlyList<string> patterns) =>
        patterns.Select((p, i) => new ConfigRegex($@"^.*?\.{p}\.(\d+)\.", $"{nameof(LoRAConfig.LayersPattern)}[{i}]", p, RegexOptions.Singleline)).ToArray();

    private static int? LayerOf(string path, ConfigRegex[]? patterns)
    {
        Match match;
        if (patterns is null)
            match = DefaultLayerIndex.Match(path);
        else
        {
            match = Match.Empty;
            foreach (var pattern in patterns)
            {
                match = pattern.Match(path);
                if (match.Success) break;
            }
        }
        return match.Success && int.TryParse(match.Groups[1].Value, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : null;
    }

    /// <summary>
    /// Full paths of every linear module (an <c>nn.Linear</c> or a <see cref="LoRALinear"/>, never the adapter matrices inside
    /// one). As PEFT does for a model without output embeddings, nothing else is left out, except with task type
    /// <c>SEQ_CLS</c> the top-level <c>score</c> or <c>classifier</c> module.
    /// </summary>
    public static HashSet<string> AllLinearPaths(nn.Module model, string? taskType)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var linearOwners = new List<string>();
        foreach (var (path, module) in model.named_modules())
        {
            // Adapter matrices are Linear modules too, inside a LoRA layer or an adapted Linear: never targets.
            if (linearOwners.Any(p => path.StartsWith(p + ".", StringComparison.Ordinal))) continue;
            if (module is Linear or LoRALayer) linearOwners.Add(path);
            if (module is Linear || (module is LoRALayer and not Transformers.InProjectionSlice)) paths.Add(path);
        }
        if (string.Equals(taskType, "SEQ_CLS", StringComparison.Ordinal))
        {
            var children = model.named_children().Select(c => c.name).ToHashSet(StringComparer.Ordinal);
            if (SequenceClassificationHeads.FirstOrDefault(children.Contains) is { } head) paths.Remove(head);
        }
        return paths;
    }

    private static T? Override<T>((ConfigRegex Key, T Value)[] pattern, string path) where T : struct
    {
        foreach (var (key, value) in pattern)
            if (key.IsMatch(path)) return value;
        return null;
    }

    // The library's own pattern (no user text in it): a compiled regex with the same timeout as every other.
    private static readonly Regex DefaultLayerIndex =
        new(@"^.*?\.[^.]*\.(\d+)\.", RegexOptions.CultureInvariant | RegexOptions.Singleline, ConfigRegex.MatchTimeout);
}
