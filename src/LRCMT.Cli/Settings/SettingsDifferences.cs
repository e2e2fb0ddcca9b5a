using System.Text.Json;
using System.Text.Json.Nodes;

namespace LRCMT.Cli.Settings;

/// <summary>
/// Where two run settings differ, setting by setting, as config.json writes them: what <c>train --resume</c> compares a
/// run's own settings with the settings a command line asks for. What a run records about itself (its environment,
/// its resumptions, the pointer to its saved model) is not a setting and is never compared.
/// </summary>
internal static class SettingsDifferences
{
    /// <summary>One setting that differs: its dotted path and both values as JSON.</summary>
    internal sealed record Difference(string Path, string Run, string Asked)
    {
        public override string ToString() => $"{Path}: the run has {Run}, asked {Asked}";
    }

    private static readonly string[] NotSettings =
        [nameof(RunSettings.Environment), nameof(RunSettings.Resumptions), nameof(RunSettings.ModelFolder)];

    /// <summary>
    /// Whether a setting only says how a run executes, not what the experiment is: the device, the CPU threads and
    /// whether glibc's heap growth was limited (memory and speed only: a full fine-tuning run gave the same metrics
    /// with and without the limit). Ablations that differ only in these can still be merged.
    /// </summary>
    internal static bool IsExecutionOnly(string path) =>
        path is nameof(RunSettings.Device) or nameof(RunSettings.Threads) or HeapGrowthPath;

    private const string HeapGrowthPath = $"{nameof(RunSettings.Training)}.{nameof(Training.TrainerOptions.LimitNativeHeapGrowth)}";

    /// <summary>Every setting whose value differs between <paramref name="run"/> and <paramref name="asked"/>, in file order.</summary>
    internal static List<Difference> Between(RunSettings run, RunSettings asked)
    {
        var left = Flatten(run);
        var right = Flatten(asked);
        var differences = new List<Difference>();
        foreach (var (path, value) in left)
        {
            string other = right.GetValueOrDefault(path, "(none)");
            if (!string.Equals(value, other, StringComparison.Ordinal)) differences.Add(new Difference(path, value, other));
        }
        foreach (var (path, value) in right)
            if (!left.ContainsKey(path)) differences.Add(new Difference(path, "(none)", value));
        return differences;
    }

    // Leaves of the config.json form: objects are walked, numbers, strings, booleans and whole lists are compared as JSON.
    private static Dictionary<string, string> Flatten(RunSettings settings)
    {
        var json = JsonNode.Parse(RunSettingsFile.ToJson(settings))!.AsObject();
        foreach (var name in NotSettings) json.Remove(name);
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(json, "", leaves);
        return leaves;
    }

    private static void Walk(JsonNode? node, string path, Dictionary<string, string> leaves)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj) Walk(child, path.Length == 0 ? key : $"{path}.{key}", leaves);
            return;
        }
        leaves[path] = node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null";
    }
}
