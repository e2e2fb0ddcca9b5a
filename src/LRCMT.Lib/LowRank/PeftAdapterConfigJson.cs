using System.Text.Json;
using System.Text.Json.Nodes;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// Reads and writes PEFT's <c>adapter_config.json</c> for LoRA. Written files carry the fields PEFT's
/// <c>LoraConfig</c> reads (keys sorted, like <c>save_pretrained</c>); reading accepts PEFT's value forms
/// (target_modules as a list or a regex string, init_lora_weights as true/false/"gaussian", …).
/// </summary>
internal static class PeftAdapterConfigJson
{
    public static string Write(LoRAConfig config, string? baseModelNameOrPath)
    {
        var json = new JsonObject
        {
            ["alpha_pattern"] = Map(config.AlphaPattern, v => JsonValue.Create(v)),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["exclude_modules"] = config.ExcludeModules.Count > 0 ? List(config.ExcludeModules) : null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = config.Init switch { LoRAInit.Gaussian => JsonValue.Create("gaussian"), LoRAInit.BothRandom => false, _ => true },
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = config.LayersToTransform is { } layers ? new JsonArray(layers.Select(i => (JsonNode)i).ToArray()) : null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = AsNumber(config.Alpha),
            ["lora_bias"] = false,
            ["lora_dropout"] = AsFloat(config.Dropout),
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = config.ModulesToSave.Count > 0 ? List(config.ModulesToSave) : null,
            ["peft_type"] = "LORA",
            ["r"] = config.Rank,
            ["rank_pattern"] = Map(config.RankPattern, v => JsonValue.Create(v)),
            ["revision"] = null,
            ["target_modules"] = config.TargetRegex is { } regex ? JsonValue.Create(regex) : List(config.TargetModules),
            ["task_type"] = null,
            ["use_dora"] = config.UseDora,
            ["use_rslora"] = config.UseRsLora,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <exception cref="CorruptFileException">The file is not JSON or a field has the wrong type.</exception>
    /// <exception cref="InvalidConfigurationException">The adapter is not a LoRA adapter this library can use.</exception>
    public static LoRAConfig Read(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CorruptFileException(path, null, "adapter_config.json must hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, e.BytePositionInLine, $"not valid JSON: {e.Message}", e);
        }

        try
        {
            var problems = new List<string>();
            if (Text(json, "peft_type") is { } type && type != "LORA") problems.Add($"peft_type is '{type}'; only LORA adapters are supported.");
            if (Text(json, "bias") is { } bias && bias != "none") problems.Add($"bias is '{bias}'; only 'none' is supported.");
            if (json["fan_in_fan_out"]?.GetValue<bool>() == true) problems.Add("fan_in_fan_out is true; only [out, in] weights are supported.");
            if (json["r"] is null) problems.Add("r (the rank) is missing.");
            if (problems.Count > 0) throw new InvalidConfigurationException($"PEFT adapter config '{path}'", problems);

            var config = new LoRAConfig
            {
                Rank = json["r"]!.GetValue<int>(),
                Alpha = json["lora_alpha"]?.GetValue<double>() ?? 8,
                Dropout = json["lora_dropout"]?.GetValue<double>() ?? 0,
                UseRsLora = json["use_rslora"]?.GetValue<bool>() ?? false,
                UseDora = json["use_dora"]?.GetValue<bool>() ?? false,
                Init = ReadInit(json["init_lora_weights"]),
                ExcludeModules = Names(json["exclude_modules"]),
                ModulesToSave = Names(json["modules_to_save"]),
                LayersToTransform = json["layers_to_transform"] switch
                {
                    null => null,
                    JsonArray a => a.Select(n => n!.GetValue<int>()).ToList(),
                    var n => [n.GetValue<int>()],
                },
                RankPattern = (json["rank_pattern"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>()) ?? [],
                AlphaPattern = (json["alpha_pattern"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()) ?? [],
            };
            if (json["target_modules"] is JsonValue regex) config.TargetRegex = regex.GetValue<string>();
            else config.TargetModules = Names(json["target_modules"]);
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(path, null, $"a field has an unexpected type: {e.Message}", e);
        }
    }

    private static LoRAInit ReadInit(JsonNode? node) => node switch
    {
        null => LoRAInit.Default,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? LoRAInit.Default : LoRAInit.BothRandom,
        JsonValue v when v.TryGetValue<string>(out var s) && s == "gaussian" => LoRAInit.Gaussian,
        // Other PEFT schemes (pissa, olora, loftq, …) only matter when creating an adapter; loaded weights replace them.
        _ => LoRAInit.Default,
    };

    private static string? Text(JsonObject json, string key) => json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static List<string> Names(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a.Select(n => n!.GetValue<string>()).ToList(),
        var n => [n.GetValue<string>()],
    };

    private static JsonArray List(IEnumerable<string> names) => new(names.Select(n => (JsonNode)n).ToArray());

    private static JsonObject Map<T>(Dictionary<string, T> map, Func<T, JsonNode?> value)
        => new(map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, value(kv.Value))));

    // Python writes floats with a decimal point (0.0); keep that so the file reads the same as PEFT's.
    private static JsonNode AsFloat(double value)
    {
        var text = value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return JsonNode.Parse(text.Contains('.') || text.Contains('E') ? text : text + ".0")!;
    }

    // PEFT writes integral alphas as integers (lora_alpha: 8); keep that so the file reads the same.
    private static JsonNode AsNumber(double value)
        => value == Math.Floor(value) && Math.Abs(value) < int.MaxValue
            ? JsonValue.Create((int)value)
            : JsonValue.Create(value);
}
