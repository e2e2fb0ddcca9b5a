using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// Reads and writes PEFT's <c>adapter_config.json</c> for LoRA. Written files carry every field PEFT 0.21's
/// <c>LoraConfig.to_dict()</c> gives (keys sorted, as <c>save_pretrained</c> writes them). Reading is tolerant as PEFT
/// is: missing fields take PEFT's defaults, unknown fields are ignored with a note, and fields that only steer how PEFT
/// creates an adapter (LoftQ, EVA, CorDA…) are noted; fields that change the math and are not supported are errors.
/// </summary>
internal static class PeftAdapterConfigJson
{
    /// <summary>The PEFT release whose adapter_config.json field set this library writes (peft_version).</summary>
    public const string PeftVersion = "0.21.0";

    /// <summary>Every field PEFT 0.21's LoraConfig writes (PeftConfigMixin, PeftConfig and LoraConfig fields, runtime_config removed).</summary>
    public static readonly IReadOnlyList<string> Fields =
    [
        "alora_invocation_tokens", "alpha_pattern", "arrow_config", "auto_mapping", "base_model_name_or_path", "bias",
        "corda_config", "ensure_weight_tying", "eva_config", "exclude_modules", "fan_in_fan_out", "inference_mode",
        "init_lora_weights", "kasa_config", "layer_replication", "layers_pattern", "layers_to_transform", "loftq_config",
        "lora_alpha", "lora_bias", "lora_dropout", "lora_ga_config", "megatron_config", "megatron_core", "modules_to_save",
        "monteclora_config", "peft_type", "peft_version", "qalora_group_size", "r", "rank_pattern", "revision",
        "target_modules", "target_parameters", "task_type", "trainable_token_indices", "use_bdlora", "use_dora",
        "use_qalora", "use_rslora", "velora_config",
    ];

    // Fields that only matter while PEFT creates an adapter; loaded weights replace what they would compute.
    private static readonly string[] CreationOnlyFields = ["loftq_config", "eva_config", "corda_config", "lora_ga_config"];

    // Fields whose non-default value changes the forward pass in a way this library does not implement.
    private static readonly string[] UnsupportedWhenSet =
    [
        "layer_replication", "trainable_token_indices", "target_parameters", "alora_invocation_tokens", "velora_config",
        "monteclora_config", "use_bdlora", "arrow_config", "kasa_config", "megatron_config",
    ];

    /// <summary>Everything written besides the LoRA settings.</summary>
    /// <param name="BaseModelNameOrPath">Recorded as base_model_name_or_path.</param>
    /// <param name="Revision">Recorded as revision.</param>
    /// <param name="AutoMapping">PEFT's auto_mapping (base model class and library), or null.</param>
    /// <param name="Extensions">Extra fields of this library (e.g. the per-slice layout marker); PEFT ignores unknown fields.</param>
    public sealed record Extras(string? BaseModelNameOrPath, string? Revision,
        JsonObject? AutoMapping, IReadOnlyDictionary<string, string> Extensions)
    {
        /// <summary>Nothing besides the LoRA settings.</summary>
        public static readonly Extras None = new(null, null, null, new Dictionary<string, string>());
    }

    /// <summary>The file's text: <see cref="ToJson"/> indented, keys sorted.</summary>
    public static string Write(LoRAConfig config, Extras extras)
        => ToJson(config, extras).ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Every field of the file, keys sorted as <c>save_pretrained</c> writes them.</summary>
    public static JsonObject ToJson(LoRAConfig config, Extras extras)
    {
        var json = new JsonObject
        {
            ["alora_invocation_tokens"] = null,
            ["alpha_pattern"] = Map(config.AlphaPattern, AsNumber),
            ["arrow_config"] = null,
            ["auto_mapping"] = extras.AutoMapping?.DeepClone(),
            ["base_model_name_or_path"] = extras.BaseModelNameOrPath,
            ["bias"] = config.Bias switch { LoRABias.All => "all", LoRABias.LoraOnly => "lora_only", _ => "none" },
            ["corda_config"] = null,
            ["ensure_weight_tying"] = false,
            ["eva_config"] = null,
            ["exclude_modules"] = config.ExcludeModules.Count > 0 ? List(config.ExcludeModules) : null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true, // PeftModel.save_pretrained writes the config in inference mode
            ["init_lora_weights"] = InitValue(config),
            ["kasa_config"] = null,
            ["layer_replication"] = null,
            ["layers_pattern"] = config.LayersPattern is { Count: > 0 } patterns ? (patterns.Count == 1 ? patterns[0] : List(patterns)) : null,
            ["layers_to_transform"] = config.LayersToTransform is { Count: > 0 } layers ? new JsonArray(layers.Select(i => (JsonNode)i).ToArray()) : null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = AsNumber(config.Alpha),
            ["lora_bias"] = false,
            ["lora_dropout"] = AsFloat(config.Dropout),
            ["lora_ga_config"] = null,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = config.ModulesToSave.Count > 0 ? List(config.ModulesToSave) : null,
            ["monteclora_config"] = null,
            ["peft_type"] = "LORA",
            ["peft_version"] = PeftVersion,
            ["qalora_group_size"] = 16,
            ["r"] = config.Rank,
            ["rank_pattern"] = Map(config.RankPattern, v => JsonValue.Create(v)),
            ["revision"] = extras.Revision,
            ["target_modules"] = TargetModulesOf(config),
            ["target_parameters"] = null,
            ["task_type"] = config.TaskType,
            ["trainable_token_indices"] = null,
            ["use_bdlora"] = null,
            ["use_dora"] = config.UseDora,
            ["use_qalora"] = false,
            ["use_rslora"] = config.UseRsLora,
            ["velora_config"] = null,
        };
        foreach (var (key, value) in extras.Extensions) json[key] = value;
        return new JsonObject(json.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
    }

    /// <summary>PEFT's <c>target_modules</c>: a regex string, or a list of names.</summary>
    public static JsonNode TargetModulesOf(LoRAConfig config)
        => config.TargetRegex is { } regex ? JsonValue.Create(regex) : List(config.TargetModules);

    /// <summary>A config read from a file, with notes on what was ignored or defaulted and this library's extension fields.</summary>
    public sealed record ReadResult(LoRAConfig Config, IReadOnlyList<string> Notes, IReadOnlyDictionary<string, string> Extensions,
        string? BaseModelNameOrPath, string? PeftVersionWritten);

    /// <exception cref="InputFileException">The path is not a regular file (a FIFO, a device, a link loop) or is over its size limit.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8 JSON, or a field (or an item of one) is null or has the wrong type; the field is named.</exception>
    /// <exception cref="InvalidConfigurationException">The adapter is not a LoRA adapter this library can use, or a value is invalid (an invalid regular expression, a rank out of range); the PEFT field is named.</exception>
    public static ReadResult Read(string path)
    {
        JsonObject json;
        try
        {
            // A repeated key is refused while parsing (found by the fuzz suite: JsonObject otherwise throws ArgumentException on first access).
            var utf8 = IO.InputFile.ReadAllUtf8(path, IO.InputKind.AdapterConfig);
            TextEncoders.Tokenization.JsonFields.RequireStrict(utf8, path);
            json = JsonNode.Parse(utf8.Span, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new CorruptFileException(path, null, "adapter_config.json must hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, e.BytePositionInLine, $"not valid JSON: {e.Message}", e);
        }

        try
        {
            return ReadObject(json, path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(path, null, $"a field has an unexpected type: {e.Message}", e);
        }
    }

    private static ReadResult ReadObject(JsonObject json, string path)
    {
        var notes = new List<string>();
        var problems = new List<string>();
        if (Text(json, "peft_type") is { } type && type != "LORA") problems.Add($"peft_type is '{type}'; only LORA adapters are supported.");
        if (Optional<bool>(json, "fan_in_fan_out", path) == true) problems.Add("fan_in_fan_out is true; only [out, in] weights are supported.");
        if (Optional<bool>(json, "lora_bias", path) == true) problems.Add("lora_bias is true (a bias on lora_B); not supported.");
        if (Optional<bool>(json, "use_qalora", path) == true) problems.Add("use_qalora is true; QALoRA is not supported.");
        foreach (var field in UnsupportedWhenSet)
            if (json[field] is { } value && !(value is JsonObject { Count: 0 }))
                problems.Add($"{field} is set ({Abbreviate(value)}); this variant is not supported.");
        var bias = Text(json, "bias") switch
        {
            null or "none" => LoRABias.None,
            "all" => LoRABias.All,
            "lora_only" => LoRABias.LoraOnly,
            var other => Fail(problems, $"bias is '{other}'; expected 'none', 'all' or 'lora_only'.", LoRABias.None),
        };
        if (problems.Count > 0) throw new InvalidConfigurationException($"PEFT adapter config '{path}'", problems.Select(p => new SettingProblem("", p)).ToList());

        var known = Fields.Append("runtime_config").ToHashSet(StringComparer.Ordinal);
        var extensions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in json)
        {
            if (known.Contains(key)) continue;
            if (key.StartsWith("lrcmt_", StringComparison.Ordinal) && value is JsonValue v && v.TryGetValue<string>(out var text))
                extensions[key] = text;
            else
                notes.Add($"field '{key}' is not one of PEFT 0.21's LoRA fields; ignored.");
        }
        foreach (var field in CreationOnlyFields)
            if (json[field] is { } value && !(value is JsonObject { Count: 0 }))
                notes.Add($"{field} only steers how PEFT initialises a new adapter; the saved weights are used as they are.");
        foreach (var field in new[] { "r", "lora_alpha", "target_modules" })
            if (!json.ContainsKey(field)) notes.Add($"field '{field}' is missing; PEFT's default is used.");

        var (init, pissaIterations) = ReadInit(json["init_lora_weights"], notes);
        var config = new LoRAConfig
        {
            Rank = Optional<int>(json, "r", path) ?? 8,
            Alpha = Optional<double>(json, "lora_alpha", path) ?? 8,
            Dropout = Optional<double>(json, "lora_dropout", path) ?? 0,
            UseRsLora = Optional<bool>(json, "use_rslora", path) ?? false,
            UseDora = Optional<bool>(json, "use_dora", path) ?? false,
            Init = init,
            PissaIterations = pissaIterations,
            Bias = bias,
            TaskType = Text(json, "task_type"),
            ExcludeModules = Names(json, "exclude_modules", path),
            ModulesToSave = Names(json, "modules_to_save", path),
            LayersToTransform = json["layers_to_transform"] switch
            {
                null => null,
                JsonArray a => a.Select((n, i) => Item<int>(n, $"layers_to_transform[{i}]", path)).ToList(),
                var n => [Item<int>(n, "layers_to_transform", path)],
            },
            LayersPattern = json["layers_pattern"] is null ? null : Names(json, "layers_pattern", path),
            RankPattern = Pattern<int>(json, "rank_pattern", path),
            AlphaPattern = Pattern<double>(json, "alpha_pattern", path),
            TargetRegex = json["target_modules"] is JsonValue regex ? Item<string>(regex, "target_modules", path) : null,
            TargetModules = json["target_modules"] is JsonValue ? [] : Names(json, "target_modules", path),
        };
        // Every value rule of LoRAConfig (ranks, regular expressions…), reported under PEFT's field names.
        SettingRules.ThrowIfAny($"PEFT adapter config '{path}'", config.FindProblems().Select(ToPeftField).ToList());
        if (json["exclude_modules"] is JsonValue) notes.Add("exclude_modules is a string; it is read as a single module name, not as a regex.");
        if (extensions.TryGetValue(PeftKeyLayout.ExtensionField, out var layout) && layout == PeftKeyLayout.PerSliceLayout)
            notes.Add("this adapter uses LRCMT's per-slice q/k/v layout for multi-head attention (in_proj.q/k/v); PEFT cannot read it.");
        return new ReadResult(config, notes, extensions, Text(json, "base_model_name_or_path"), Text(json, "peft_version"));
    }

    private static T Fail<T>(List<string> problems, string problem, T value)
    {
        problems.Add(problem);
        return value;
    }

    // PEFT's spelling of the fast PiSSA initialisation: "pissa_niter_" followed by the number of subspace iterations.
    private const string PissaPrefix = "pissa_niter_";

    /// <summary>PEFT's <c>init_lora_weights</c> value: true, false, "gaussian", "pissa", "pissa_niter_k" or "olora".</summary>
    private static JsonNode InitValue(LoRAConfig config) => config.Init switch
    {
        LoRAInit.Gaussian => JsonValue.Create("gaussian"),
        LoRAInit.BothRandom => false,
        LoRAInit.PiSSA => JsonValue.Create(config.PissaIterations is { } k ? PissaPrefix + k.ToString(CultureInfo.InvariantCulture) : "pissa"),
        LoRAInit.OLoRA => JsonValue.Create("olora"),
        _ => true,
    };

    private static (LoRAInit Init, int? PissaIterations) ReadInit(JsonNode? node, List<string> notes)
    {
        switch (node)
        {
            case null: return (LoRAInit.Default, null);
            case JsonValue v when v.TryGetValue<bool>(out var b): return (b ? LoRAInit.Default : LoRAInit.BothRandom, null);
            case JsonValue v when v.TryGetValue<string>(out var s) && s == "gaussian": return (LoRAInit.Gaussian, null);
            case JsonValue v when v.TryGetValue<string>(out var s) && s == "pissa": return (LoRAInit.PiSSA, null);
            case JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith(PissaPrefix, StringComparison.Ordinal)
                                  && int.TryParse(s.AsSpan(PissaPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var k):
                return (LoRAInit.PiSSA, k);
            case JsonValue v when v.TryGetValue<string>(out var s) && s.Equals("olora", StringComparison.OrdinalIgnoreCase): return (LoRAInit.OLoRA, null);
            default:
                // loftq, eva, corda, orthogonal, …: they only matter when creating an adapter; loaded weights replace them.
                notes.Add($"init_lora_weights {node.ToJsonString()} is not implemented here; it only matters for a new adapter, and the saved weights are used as they are.");
                return (LoRAInit.Default, null);
        }
    }

    private static string? Text(JsonObject json, string key) => json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Abbreviate(JsonNode node)
    {
        var text = node.ToJsonString();
        return text.Length > 60 ? text[..60] + "…" : text;
    }

    private static List<string> Names(JsonObject json, string field, string path) => json[field] switch
    {
        null => [],
        JsonArray a => a.Select((n, i) => Item<string>(n, $"{field}[{i}]", path)).ToList(),
        var n => [Item<string>(n, field, path)],
    };

    // A field PEFT may leave out or set to null (both mean its default).
    private static T? Optional<T>(JsonObject json, string field, string path) where T : struct =>
        json[field] is { } node ? Item<T>(node, field, path) : null;

    // One value of the file, of the JSON type T needs: a null or another type is a corrupt file naming the field and value.
    private static T Item<T>(JsonNode? node, string field, string path)
    {
        if (node is JsonValue value && value.TryGetValue<T>(out var result) && result is not null) return result;
        var expected = typeof(T) == typeof(string) ? "a string" : typeof(T) == typeof(bool) ? "true or false" : typeof(T) == typeof(int) ? "a whole number" : "a number";
        throw new CorruptFileException(path, null, $"{field} is {node?.ToJsonString() ?? "null"}; expected {expected}.");
    }

    private static Dictionary<string, T> Pattern<T>(JsonObject json, string field, string path) => json[field] switch
    {
        null => [],
        JsonObject map => map.ToDictionary(kv => kv.Key, kv => Item<T>(kv.Value, $"{field}['{kv.Key}']", path), StringComparer.Ordinal),
        var other => throw new CorruptFileException(path, null, $"{field} is {Abbreviate(other)}; expected an object mapping module patterns to values."),
    };

    // LoRAConfig's property names as PEFT's adapter_config.json fields, so a problem names the field in the file.
    private static SettingProblem ToPeftField(SettingProblem problem)
    {
        var (property, rest) = problem.Path.IndexOfAny(['[', '.']) is var cut and >= 0 ? (problem.Path[..cut], problem.Path[cut..]) : (problem.Path, "");
        var field = property switch
        {
            nameof(LoRAConfig.Rank) => "r",
            nameof(LoRAConfig.Alpha) => "lora_alpha",
            nameof(LoRAConfig.Dropout) => "lora_dropout",
            nameof(LoRAConfig.TargetModules) or nameof(LoRAConfig.TargetRegex) => "target_modules",
            nameof(LoRAConfig.ExcludeModules) => "exclude_modules",
            nameof(LoRAConfig.ModulesToSave) => "modules_to_save",
            nameof(LoRAConfig.LayersToTransform) => "layers_to_transform",
            nameof(LoRAConfig.LayersPattern) => "layers_pattern",
            nameof(LoRAConfig.RankPattern) => "rank_pattern",
            nameof(LoRAConfig.AlphaPattern) => "alpha_pattern",
            nameof(LoRAConfig.Init) => "init_lora_weights",
            nameof(LoRAConfig.Bias) => "bias",
            _ => property,
        };
        return new SettingProblem(field + rest, problem.Message);
    }

    public static JsonArray List(IEnumerable<string> names) => new(names.Select(n => (JsonNode)n).ToArray());

    private static JsonObject Map<T>(IReadOnlyDictionary<string, T> map, Func<T, JsonNode?> value)
        => new(map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, value(kv.Value))));

    // Python writes floats with a decimal point (0.0); keep that so the file reads the same as PEFT's.
    private static JsonNode AsFloat(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return JsonNode.Parse(text.Contains('.') || text.Contains('E') ? text : text + ".0")!;
    }

    // PEFT writes integral alphas as integers (lora_alpha: 8); keep that so the file reads the same.
    private static JsonNode AsNumber(double value)
        => value == Math.Floor(value) && Math.Abs(value) < int.MaxValue
            ? JsonValue.Create((int)value)
            : JsonValue.Create(value);
}
