using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// Settings of a LoRA adapter and of where to put it, mirroring PEFT's <c>LoraConfig</c> (and its defaults). Immutable
/// data: set the properties when creating it (or bind them from configuration), derive variants with <c>with</c>, then
/// <see cref="Validate"/> (the injector does it for you). Two configurations are equal when every setting is, lists and
/// patterns compared by content.
/// </summary>
public sealed record LoRAConfig
{
    /// <summary>Rank r of the update B·A (PEFT <c>r</c>). Default 8.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>Alpha; the update is scaled by Alpha/r, or Alpha/√r with <see cref="UseRsLora"/> (PEFT <c>lora_alpha</c>). Default 8.</summary>
    public double Alpha { get; init; } = 8;

    /// <summary>Dropout probability applied to the adapter's input only (PEFT <c>lora_dropout</c>). Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// Layers adapted in place (<see cref="AdaptationMechanism.Substitution"/>: a sealed <c>Linear</c> field, a registered
    /// linear-like type) cannot apply dropout to the adapter's input. With <see cref="Dropout"/> above 0 injection then
    /// fails, unless this is true: such layers then train without dropout. Not part of PEFT's config. Default false.
    /// </summary>
    public bool AllowDropoutOnSubstitutedLayers { get; init; }

    /// <summary>Scale by Alpha/√r instead of Alpha/r (rank-stabilised LoRA, PEFT <c>use_rslora</c>).</summary>
    public bool UseRsLora { get; init; }

    /// <summary>Use DoRA, the weight-decomposed variant with a trainable per-output magnitude (PEFT <c>use_dora</c>).</summary>
    public bool UseDora { get; init; }

    /// <summary>How the adapter matrices start (PEFT <c>init_lora_weights</c>).</summary>
    public LoRAInit Init { get; init; } = LoRAInit.Default;

    /// <summary>
    /// With <see cref="Init"/> = <see cref="LoRAInit.PiSSA"/>: null for the exact SVD of W0 (PEFT <c>"pissa"</c>), or
    /// the number of subspace iterations of the fast randomised SVD (PEFT <c>"pissa_niter_k"</c>), which draws its
    /// test matrix from TorchSharp's global generator (<c>torch.manual_seed</c> makes it repeatable). Must be null for
    /// every other initialisation.
    /// </summary>
    public int? PissaIterations { get; init; }

    /// <summary>Whether <see cref="Init"/> moves part of W0 into the adapter (PiSSA, OLoRA), changing the base weight.</summary>
    internal bool InitChangesBaseWeight => Init is LoRAInit.PiSSA or LoRAInit.OLoRA;

    /// <summary>
    /// Modules to adapt, each an exact dotted path or a suffix after a '.', e.g. <c>query</c> matches
    /// <c>encoder.layer.0.attention.self.query</c>. For converted multi-head attention, <c>in_proj.q</c>,
    /// <c>in_proj.k</c> and <c>in_proj.v</c> name the slices of the packed input projection.
    /// </summary>
    public IReadOnlyList<string> TargetModules { get; init => field = Copy(value); } = [];

    /// <summary>
    /// PEFT's shorthand for "every linear layer except the output head", accepted as <see cref="TargetRegex"/> (as PEFT's
    /// string form) or as the only entry of <see cref="TargetModules"/>.
    /// </summary>
    public const string AllLinear = "all-linear";

    /// <summary>Whether the targets are <see cref="AllLinear"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool TargetsAllLinear => string.Equals(TargetRegex, AllLinear, StringComparison.OrdinalIgnoreCase)
        || (TargetRegex is null && TargetModules is [var only] && string.Equals(only, AllLinear, StringComparison.OrdinalIgnoreCase));

    /// <summary>A regular expression that must match a module's whole dotted path; used instead of <see cref="TargetModules"/>.</summary>
    public string? TargetRegex { get; init; }

    /// <summary>Modules never to adapt, matched like <see cref="TargetModules"/>.</summary>
    public IReadOnlyList<string> ExcludeModules { get; init => field = Copy(value); } = [];

    /// <summary>
    /// Only adapt modules whose layer index is one of these (PEFT <c>layers_to_transform</c>); null for all. The index
    /// is the first number segment after the first two segments of the path (<c>encoder.layer.3.…</c>), or, with
    /// <see cref="LayersPattern"/>, the number after one of those names. Applies to <see cref="TargetModules"/> only.
    /// </summary>
    public IReadOnlyList<int>? LayersToTransform { get; init => field = value is null ? null : Copy(value); }

    /// <summary>Names of the layer containers whose index <see cref="LayersToTransform"/> reads, e.g. <c>layer</c> (PEFT <c>layers_pattern</c>); null for PEFT's default.</summary>
    public IReadOnlyList<string>? LayersPattern { get; init => field = value is null ? null : Copy(value); }

    /// <summary>Which biases train with the adapter (PEFT <c>bias</c>): none, all, or those of the adapted layers. Trained biases are saved in the adapter file.</summary>
    public LoRABias Bias { get; init; } = LoRABias.None;

    /// <summary>PEFT's <c>task_type</c> (e.g. <c>SEQ_CLS</c>), recorded in adapter files; with <c>SEQ_CLS</c> and <see cref="AllLinear"/>, a top-level <c>classifier</c>/<c>score</c> head is not adapted.</summary>
    public string? TaskType { get; init; }

    /// <summary>Per-module rank overrides; a key matches a path it equals or ends with after a '.' (a regex, as in PEFT).</summary>
    public IReadOnlyDictionary<string, int> RankPattern { get; init => field = Copy(value); } = new Dictionary<string, int>();

    /// <summary>Per-module alpha overrides, matched like <see cref="RankPattern"/>.</summary>
    public IReadOnlyDictionary<string, double> AlphaPattern { get; init => field = Copy(value); } = new Dictionary<string, double>();

    /// <summary>Modules (matched like <see cref="TargetModules"/>) kept fully trainable, e.g. a task head.</summary>
    public IReadOnlyList<string> ModulesToSave { get; init => field = Copy(value); } = [];

    /// <inheritdoc />
    public bool Equals(LoRAConfig? other) =>
        other is not null
        && Rank == other.Rank && Alpha.Equals(other.Alpha) && Dropout.Equals(other.Dropout)
        && AllowDropoutOnSubstitutedLayers == other.AllowDropoutOnSubstitutedLayers && UseRsLora == other.UseRsLora
        && UseDora == other.UseDora && Init == other.Init && PissaIterations == other.PissaIterations && TargetRegex == other.TargetRegex && Bias == other.Bias
        && TaskType == other.TaskType
        && SameItems(TargetModules, other.TargetModules) && SameItems(ExcludeModules, other.ExcludeModules)
        && SameItems(LayersToTransform, other.LayersToTransform) && SameItems(LayersPattern, other.LayersPattern)
        && SameItems(ModulesToSave, other.ModulesToSave)
        && SameEntries(RankPattern, other.RankPattern) && SameEntries(AlphaPattern, other.AlphaPattern);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Rank);
        hash.Add(Alpha);
        hash.Add(Dropout);
        hash.Add(UseRsLora);
        hash.Add(UseDora);
        hash.Add(Init);
        hash.Add(PissaIterations);
        hash.Add(TargetRegex);
        foreach (var target in TargetModules ?? []) hash.Add(target);
        return hash.ToHashCode();
    }

    // The record's ToString, with lists and patterns by content rather than by their type names.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        static string Items<T>(IEnumerable<T>? items) => items is null ? "null" : $"[{string.Join(", ", items)}]";
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"Rank = {Rank}, Alpha = {Alpha}, Dropout = {Dropout}, AllowDropoutOnSubstitutedLayers = {AllowDropoutOnSubstitutedLayers}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"UseRsLora = {UseRsLora}, UseDora = {UseDora}, Init = {Init}, PissaIterations = {PissaIterations}, TargetModules = {Items(TargetModules)}, TargetRegex = {TargetRegex}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"ExcludeModules = {Items(ExcludeModules)}, LayersToTransform = {Items(LayersToTransform)}, LayersPattern = {Items(LayersPattern)}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"Bias = {Bias}, TaskType = {TaskType}, RankPattern = {Items(RankPattern?.Select(kv => $"{kv.Key}: {kv.Value}"))}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"AlphaPattern = {Items(AlphaPattern?.Select(kv => $"{kv.Key}: {kv.Value}"))}, ModulesToSave = {Items(ModulesToSave)}");
        return true;
    }

    // Init-only is not enough for lists: a caller could keep and change the list it passed in. Each setter copies.
    // A null that a binder or deserializer sets is kept, so FindProblems can name it.
    private static IReadOnlyList<T> Copy<T>(IReadOnlyList<T>? value) => value is null ? null! : [.. value];

    private static IReadOnlyDictionary<string, T> Copy<T>(IReadOnlyDictionary<string, T>? value) =>
        value is null ? null! : new Dictionary<string, T>(value, StringComparer.Ordinal);

    private static bool SameItems<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) =>
        a is null || b is null ? a is null && b is null : a.SequenceEqual(b);

    private static bool SameEntries<T>(IReadOnlyDictionary<string, T>? a, IReadOnlyDictionary<string, T>? b) =>
        a is null || b is null
            ? a is null && b is null
            : a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && EqualityComparer<T>.Default.Equals(kv.Value, v));

    /// <summary>The factor applied to B·A for a given rank and alpha under this configuration.</summary>
    public double ScalingFor(int rank, double alpha) => UseRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;

    /// <summary>Every problem of these settings (paths relative to them, e.g. <c>Rank</c>); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        var problems = SettingRules.Collect(
            SettingRules.LoRARank(nameof(Rank), Rank),
            SettingRules.Positive(nameof(Alpha), Alpha),
            SettingRules.Rate(nameof(Dropout), Dropout),
            SettingRules.Defined(nameof(Init), Init),
            PissaIterations is { } iterations ? SettingRules.AtLeast(nameof(PissaIterations), iterations, 0) : null,
            SettingRules.Defined(nameof(Bias), Bias),
            BlankEntry(nameof(TargetModules), TargetModules),
            BlankEntry(nameof(ExcludeModules), ExcludeModules),
            BlankEntry(nameof(ModulesToSave), ModulesToSave),
            LayersPattern is { } patterns ? BlankEntry(nameof(LayersPattern), patterns) : null);

        if (PissaIterations is not null && Init != LoRAInit.PiSSA)
            problems.Add(new(nameof(PissaIterations), $"applies to Init = PiSSA only (PEFT's \"pissa_niter_k\"), but Init is {Init}; leave it null"));

        bool hasList = TargetModules is { Count: > 0 };
        bool hasRegex = !string.IsNullOrWhiteSpace(TargetRegex);
        if (!hasList && !hasRegex) problems.Add(new(nameof(TargetModules), "set TargetModules (names or suffixes) or TargetRegex; both are empty"));
        if (hasList && hasRegex) problems.Add(new(nameof(TargetRegex), "set either TargetModules or TargetRegex, not both"));
        if (hasRegex && !TargetsAllLinear && ConfigRegex.Problem(TargetRegex!) is { } regexProblem) problems.Add(new(nameof(TargetRegex), regexProblem));
        // PEFT matches modules to save and layer-container names as regular expressions too (TargetMatcher).
        foreach (var (name, i) in (ModulesToSave ?? []).Select((n, i) => (n, i)))
            if (!string.IsNullOrWhiteSpace(name) && ConfigRegex.Problem(name) is { } problem) problems.Add(new($"{nameof(ModulesToSave)}[{i}]", problem));
        foreach (var (name, i) in (LayersPattern ?? []).Select((n, i) => (n, i)))
            if (!string.IsNullOrWhiteSpace(name) && ConfigRegex.Problem(name) is { } problem) problems.Add(new($"{nameof(LayersPattern)}[{i}]", problem));

        if (LayersToTransform is { } layers && layers.Any(i => i < 0))
            problems.Add(new(nameof(LayersToTransform), $"must hold non-negative indices, got {string.Join(", ", layers.Where(i => i < 0))}"));
        foreach (var (key, rank) in RankPattern ?? new Dictionary<string, int>())
        {
            problems.AddRange(SettingRules.Collect(SettingRules.LoRARank($"{nameof(RankPattern)}['{key}']", rank)));
            if (ConfigRegex.Problem(key) is not null) problems.Add(new($"{nameof(RankPattern)}['{key}']", "the key is not a valid regular expression"));
        }
        foreach (var (key, alpha) in AlphaPattern ?? new Dictionary<string, double>())
        {
            problems.AddRange(SettingRules.Collect(SettingRules.Positive($"{nameof(AlphaPattern)}['{key}']", alpha)));
            if (ConfigRegex.Problem(key) is not null) problems.Add(new($"{nameof(AlphaPattern)}['{key}']", "the key is not a valid regular expression"));
        }
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    /// <exception cref="InvalidConfigurationException">One or more settings are invalid.</exception>
    public void Validate() => SettingRules.ThrowIfAny("LoRA configuration", FindProblems());

    private static SettingProblem? BlankEntry(string property, IReadOnlyList<string>? names) =>
        names is null ? new(property, "must not be null (use an empty list)")
        : names.Any(string.IsNullOrWhiteSpace) ? new(property, "contains an empty name")
        : null;
}
