using System.Text.Json.Nodes;
using LRCMT.Errors;
using TorchSharp;

namespace LRCMT.LowRank;

/// <summary>
/// Compares an <c>adapter_config.json</c> with the record of the adapter a model already carries, field by field as
/// the file names them: the settings that change what the adapter computes or which modules it covers. Targets are
/// compared by what PEFT's rule selects in the model (so <c>all-linear</c> and the names it resolved to agree);
/// creation-only settings (initialisation) are not compared.
/// </summary>
internal static class AdapterRecordCheck
{
    private static readonly string[] ComparedFields =
        ["r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora", "bias", "rank_pattern", "alpha_pattern", "modules_to_save"];

    /// <summary>What a hot-swap must keep: everything but rank and alpha (the slot keeps its rank; scaling follows the file).</summary>
    public static readonly string[] HotSwapFields = ["lora_dropout", "use_rslora", "use_dora", "bias", "modules_to_save"];

    /// <param name="record">The model's adapter record.</param>
    /// <param name="file">The file's configuration.</param>
    /// <param name="model">The model whose module names decide what the targets select.</param>
    /// <param name="adapterName">The model's adapter.</param>
    /// <param name="configPath">The file, for the message.</param>
    /// <param name="fields">The fields to compare besides the targets (default: every field that changes what the adapter computes).</param>
    /// <exception cref="AdapterConfigMismatchException">A compared field differs.</exception>
    public static void ThrowIfDifferent(LoRAConfig record, LoRAConfig file, torch.nn.Module model, string adapterName, string configPath, IReadOnlyList<string>? fields = null)
    {
        var mine = PeftAdapterConfigJson.ToJson(record, PeftAdapterConfigJson.Extras.None);
        var theirs = PeftAdapterConfigJson.ToJson(file, PeftAdapterConfigJson.Extras.None);
        var disagreements = new List<(string Field, string ModelValue, string FileValue)>();
        foreach (var field in fields ?? ComparedFields)
        {
            string a = Canonical(mine[field]), b = Canonical(theirs[field]);
            if (a != b) disagreements.Add((field, a, b));
        }

        var names = PeftKeyLayout.BaseModuleNames(model);
        if (!PeftAdapterFile.PeftSelects(file, names, model).SetEquals(PeftAdapterFile.PeftSelects(record, names, model)))
            disagreements.Add(("target_modules", Canonical(mine["target_modules"]), Canonical(theirs["target_modules"])));

        if (disagreements.Count > 0) throw new AdapterConfigMismatchException(configPath, adapterName, disagreements);
    }

    // Lists are compared as sets (PEFT keeps target_modules and modules_to_save as sets), so order never differs.
    private static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray list => new JsonArray(list.Select(n => n?.ToJsonString()).Order(StringComparer.Ordinal)
            .Select(text => JsonNode.Parse(text ?? "null")).ToArray()).ToJsonString(),
        _ => node.ToJsonString(),
    };
}
