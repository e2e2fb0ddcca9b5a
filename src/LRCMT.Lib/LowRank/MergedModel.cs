using LRCMT.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.LowRank;

/// <summary>Merges every LoRA layer of a model at once and exports the merged weights as an ordinary checkpoint.</summary>
public static class MergedModel
{
    /// <summary>Merges the active adapter of every enabled LoRA layer that is not merged yet; returns how many were merged.</summary>
    public static int MergeAll(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = MergeableLayers(model).ToList();
        foreach (var layer in layers) layer.Merge();
        return layers.Count;
    }

    /// <summary>Unmerges every merged LoRA layer of the model.</summary>
    public static void UnmergeAll(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var layer in LoRALayers(model)) layer.Unmerge();
    }

    /// <summary>
    /// Writes the model with its active adapters merged as a plain safetensors state dict: the original parameter
    /// names (<c>…query.weight</c>, <c>…in_proj_weight</c>) and no adapter tensors, loadable without LoRA. The model
    /// is left as it was (layers merged here are unmerged again).
    /// </summary>
    public static void Export(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var mergedHere = MergeableLayers(model).ToList();
        try
        {
            foreach (var layer in mergedHere) layer.Merge();
            // Adapter tensors are recognised by what owns them, not by their names.
            var adapterTensors = LoRALayers(model).SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();
            var state = model.state_dict().Where(kv => !adapterTensors.Contains(kv.Value.Handle));
            SafetensorsFile.Save(path, state, new Dictionary<string, string> { ["format"] = "pt" });
        }
        finally
        {
            foreach (var layer in mergedHere) layer.Unmerge();
        }
    }

    private static IEnumerable<LoRALayer> LoRALayers(nn.Module model) => model.modules().Prepend(model).OfType<LoRALayer>();

    private static IEnumerable<LoRALayer> MergeableLayers(nn.Module model)
        => LoRALayers(model).Where(l => l.AdaptersEnabled && l.MergedAdapter is null && l.ActiveAdapter is not null);
}
