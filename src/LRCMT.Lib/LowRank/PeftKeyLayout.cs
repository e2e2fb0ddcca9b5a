using LRCMT.LowRank.Transformers;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// Where each LoRA layer of a model sits in PEFT's world, in one place: the module path PEFT would give it (its
/// "file path", used for adapter-file keys, target_modules, rank_pattern), and the module names PEFT would see in
/// the base model. Ordinary layers keep their path. PEFT's whole-attention layout puts the packed in-projection
/// adapter at the attention path itself and the out-projection adapter at <c>&lt;attention&gt;.base_layer.out_proj</c>.
/// This library's per-slice layout (<c>&lt;attention&gt;.in_proj.q</c>) has no PEFT equivalent and keeps its path.
/// </summary>
internal static class PeftKeyLayout
{
    /// <summary>Marker written to adapter_config.json when an adapter uses the per-slice extension.</summary>
    public const string ExtensionField = "lrcmt_layout";

    /// <summary>Value of <see cref="ExtensionField"/> for the per-slice q/k/v layout.</summary>
    public const string PerSliceLayout = "in_proj_slices";

    /// <summary>One adapted layer.</summary>
    /// <param name="ModelPath">Module path in this model.</param>
    /// <param name="Layer">The layer.</param>
    /// <param name="FilePath">PEFT's module path for its tensors.</param>
    /// <param name="TargetPath">The path PEFT's target_modules must select, or null when PEFT adapts it as part of another target (the nested out_proj).</param>
    /// <param name="IsPerSlice">Whether it is this library's per-slice extension.</param>
    public sealed record Entry(string ModelPath, LoRALayer Layer, string FilePath, string? TargetPath, bool IsPerSlice);

    /// <summary>Every layer carrying <paramref name="adapterName"/>, in module order.</summary>
    public static List<Entry> Of(nn.Module model, string adapterName)
    {
        var modules = model.named_modules().ToList();
        var wholeAttention = new Dictionary<string, string>(StringComparer.Ordinal); // out_proj model path -> attention path
        var packedPaths = new Dictionary<string, string>(StringComparer.Ordinal);    // packed layer model path -> attention path
        var slicePaths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in modules)
        {
            if (module is not ManagedMultiheadAttention attention) continue;
            var prefix = path.Length == 0 ? "" : path + ".";
            if (attention.PackedInProjection is { } packed && packed.AdapterNames.Contains(adapterName))
            {
                packedPaths[$"{prefix}in_proj.{ManagedMultiheadAttention.PackedName}"] = path;
                wholeAttention[$"{prefix}out_proj"] = path;
            }
            foreach (var slice in new[] { "q", "k", "v" }) slicePaths.Add($"{prefix}in_proj.{slice}");
        }

        var entries = new List<Entry>();
        foreach (var (path, module) in modules)
        {
            if (module is not LoRALayer layer || !layer.AdapterNames.Contains(adapterName)) continue;
            if (packedPaths.TryGetValue(path, out var attentionPath))
                entries.Add(new Entry(path, layer, attentionPath, attentionPath, false));
            else if (wholeAttention.TryGetValue(path, out var owner))
                entries.Add(new Entry(path, layer, Join(owner, "base_layer.out_proj"), null, false));
            else
                entries.Add(new Entry(path, layer, path, path, slicePaths.Contains(path)));
        }
        return entries;
    }

    /// <summary>
    /// The module names PEFT's matcher would see in the base model: every module except the insides of LoRA layers
    /// and this library's <c>in_proj</c> containers, plus the per-slice names this library's matcher accepts.
    /// </summary>
    public static List<string> BaseModuleNames(nn.Module model)
    {
        var names = new List<string>();
        var closed = new List<string>(); // modules whose insides PEFT would not see
        var containers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in model.named_modules())
        {
            if (closed.Any(h => path.StartsWith(h + ".", StringComparison.Ordinal))) continue;
            if (module is LoRALayer) closed.Add(path);
            if (containers.Contains(path))
            {
                closed.Add(path);
                continue;
            }
            names.Add(path);
            if (module is ManagedMultiheadAttention)
            {
                var inProj = Join(path, "in_proj");
                containers.Add(inProj);
                names.AddRange(new[] { "q", "k", "v" }.Select(s => $"{inProj}.{s}"));
            }
        }
        return names;
    }

    /// <summary>PEFT's key of a bias that trains with the adapter: an adapted layer's bias sits under <c>base_layer</c>.</summary>
    public static string BiasFileKey(string modelKey, string? adaptedLayerPath, IReadOnlyDictionary<string, string> filePathByModelPath)
        => adaptedLayerPath is null ? modelKey
            : Join(filePathByModelPath.TryGetValue(adaptedLayerPath, out var filePath) ? filePath : adaptedLayerPath, "base_layer.bias");

    private static string Join(string path, string child) => path.Length == 0 ? child : $"{path}.{child}";
}
