using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// Remembers which folder a model was loaded from, so adapter files can record it as PEFT's
/// <c>base_model_name_or_path</c> (as Hugging Face models remember <c>name_or_path</c>).
/// </summary>
internal static class ModelSources
{
    private static readonly ConditionalWeakTable<nn.Module, string> Folders = new();

    public static void Record(nn.Module model, string folder) => Folders.AddOrUpdate(model, folder);

    public static string? FolderOf(nn.Module model) => Folders.TryGetValue(model, out var folder) ? folder : null;

    /// <summary>PEFT's auto_mapping for a base model whose Python class is known, else null.</summary>
    public static JsonObject? AutoMappingOf(nn.Module model) => model is BertModel
        ? new JsonObject { ["base_model_class"] = "BertModel", ["parent_library"] = "transformers.models.bert.modeling_bert" }
        : null;
}
