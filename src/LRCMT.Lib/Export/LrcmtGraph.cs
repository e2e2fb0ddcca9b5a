using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.Models.Interactions;
using LRCMT.Onnx;
using LRCMT.TextEncoders;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;

namespace LRCMT.Export;

/// <summary>
/// A whole <see cref="LRCMTModel"/> as ONNX: the text encoder, the modality projections, the interaction's cross-modal
/// stages, masked mean pooling and the head — <see cref="LRCMTModel.forward"/> at inference.
/// </summary>
internal static class LrcmtGraph
{
    public static IReadOnlyList<OnnxTensorInfo> Emit(OnnxGraphBuilder builder, LRCMTModel model, List<OnnxTensorInfo> inputs)
    {
        var root = new GraphScope(builder, "");
        ModuleTree.RequireOnly(model, root, ["text_encoder", "text_projection", "acoustic_projection", "visual_projection", "interaction", "head"]);
        var interaction = ModuleTree.Child<ModalityInteraction>(model, root, "interaction");

        var ids = Input(builder, inputs, OnnxInputNames.InputIds, DataType.Int64, "token ids", "batch", "text_length");
        var attentionMask = Input(builder, inputs, OnnxInputNames.AttentionMask, DataType.Int64, "1 = real token, 0 = padding", "batch", "text_length");
        var types = Input(builder, inputs, OnnxInputNames.TokenTypeIds, DataType.Int64, "segment ids (all 0 for one sentence)", "batch", "text_length");
        var states = TextEncoderGraph.Emit(root.Child("text_encoder"), ModuleTree.Child<TextEncoder>(model, root, "text_encoder"), ids, attentionMask, types, pooled: false);
        var textMask = root.Cast(attentionMask, DataType.Bool);
        var text = new MaskedValue(
            FusionGraph.Projection(root.Child("text_projection"), ModuleTree.Child<ModalityProjection>(model, root, "text_projection"),
                new MaskedValue(states.LastHiddenState, textMask)),
            textMask);

        MaskedValue? acoustic = null, visual = null;
        if (interaction.UsesAcousticVisual)
        {
            acoustic = Modality(root, builder, inputs, model, "acoustic", OnnxInputNames.Acoustic, OnnxInputNames.AcousticMask);
            visual = Modality(root, builder, inputs, model, "visual", OnnxInputNames.Visual, OnnxInputNames.VisualMask);
        }

        var fused = Interaction(root.Child("interaction"), interaction, text, acoustic, visual);
        var (prediction, outputs) = Head(root.Child("head"), ModuleTree.Child<SentimentHead>(model, root, "head"), fused, IsRegression(model));
        builder.Output(OnnxInputNames.Prediction, prediction, DataType.Float, outputs);
        return [new OnnxTensorInfo(OnnxInputNames.Prediction, "float32", outputs.Select(o => o.ToString()!).ToList(),
            outputs.Length == 1 ? "sentiment score per sample" : "class logits per sample")];
    }

    // The one place that reads the model's description rather than its modules: whether the head's single output is
    // squeezed to [batch] (regression) or kept as logits.
    private static bool IsRegression(LRCMTModel model) => model.Options.Head.Kind == HeadKind.Regression;

    private static string Input(OnnxGraphBuilder builder, List<OnnxTensorInfo> inputs, string name, DataType type, string meaning, params object[] dims)
    {
        inputs.Add(new OnnxTensorInfo(name, type == DataType.Float ? "float32" : "int64", dims.Select(d => d.ToString()!).ToList(), meaning));
        return builder.Input(name, type, dims);
    }

    private static MaskedValue Modality(GraphScope root, OnnxGraphBuilder builder, List<OnnxTensorInfo> inputs, LRCMTModel model, string modality, string name, string maskName)
    {
        var projection = ModuleTree.Child<ModalityProjection>(model, root, $"{modality}_projection");
        var length = $"{modality}_length";
        var features = Input(builder, inputs, name, DataType.Float, $"{modality} features per frame", "batch", length, projection.InputFeatures);
        var mask = root.Cast(Input(builder, inputs, maskName, DataType.Int64, "1 = real frame, 0 = padding", "batch", length), DataType.Bool);
        return new MaskedValue(FusionGraph.Projection(root.Child($"{modality}_projection"), projection, new MaskedValue(features, mask)), mask);
    }

    private static string Interaction(GraphScope scope, ModalityInteraction interaction, MaskedValue text, MaskedValue? acoustic, MaskedValue? visual)
    {
        string Stage(string name, MaskedValue target, MaskedValue source) =>
            FusionGraph.MeanPool(scope, new MaskedValue(
                FusionGraph.Encoder(scope.Child(name), ModuleTree.Child<CrossModalEncoder>(interaction, scope, name), target, source), target.Mask));
        bool Has(string name) => ModuleTree.ChildOrNull(interaction, name) is not null;

        switch (interaction)
        {
            case TextOnlyInteraction:
                ModuleTree.RequireOnly(interaction, scope, []);
                return FusionGraph.MeanPool(scope, text);
            case AcousticVisualFirstInteraction:
            {
                ModuleTree.RequireOnly(interaction, scope, ["acoustic_from_visual", "visual_from_acoustic", "text_from_memory", "memory_from_text"]);
                var (a, v) = (acoustic!.Value, visual!.Value);
                var acousticEnriched = new MaskedValue(Sequence(scope, interaction, "acoustic_from_visual", a, v), a.Mask);
                var visualEnriched = new MaskedValue(Sequence(scope, interaction, "visual_from_acoustic", v, a), v.Mask);
                var memory = new MaskedValue(scope.Concat(1, acousticEnriched.Values, visualEnriched.Values), scope.Concat(1, a.Mask, v.Mask));
                var pools = new List<string> { Stage("text_from_memory", text, memory) };
                if (Has("memory_from_text")) pools.Add(Stage("memory_from_text", memory, text));
                return pools.Count == 1 ? pools[0] : scope.Concat(1, [.. pools]);
            }
            case TextToEachModalityInteraction:
            {
                ModuleTree.RequireOnly(interaction, scope, ["text_from_acoustic", "text_from_visual", "acoustic_from_text", "visual_from_text"]);
                var (a, v) = (acoustic!.Value, visual!.Value);
                var pools = new List<string> { Stage("text_from_acoustic", text, a), Stage("text_from_visual", text, v) };
                if (Has("acoustic_from_text")) pools.Add(Stage("acoustic_from_text", a, text));
                if (Has("visual_from_text")) pools.Add(Stage("visual_from_text", v, text));
                return scope.Concat(1, [.. pools]);
            }
            default:
                throw ModuleTree.Unsupported(scope, interaction, "the exporter knows the interactions AcousticVisualFirst, TextToEachModality and TextOnly.");
        }
    }

    private static string Sequence(GraphScope scope, ModalityInteraction interaction, string name, MaskedValue target, MaskedValue source) =>
        FusionGraph.Encoder(scope.Child(name), ModuleTree.Child<CrossModalEncoder>(interaction, scope, name), target, source);

    // relu(proj1(f)) → proj2 + f → out_layer; a regression head's one output is squeezed to [batch].
    private static (string Prediction, object[] Shape) Head(GraphScope scope, SentimentHead head, string fused, bool regression)
    {
        ModuleTree.RequireOnly(head, scope, ["proj1", "proj2", "out_layer"]);
        string Projection(string name, string x) => ExportedLinear.Emit(scope.Child(name), ModuleTree.ChildOrNull(head, name)!, x);
        var hidden = scope.Relu(Projection("proj1", fused));
        var output = Projection("out_layer", scope.Add(Projection("proj2", hidden), fused));
        if (regression) return (scope.Squeeze(output, 1), ["batch"]);
        var classes = ModuleTree.Tensor(ModuleTree.ChildOrNull(head, "out_layer")!, scope.Child("out_layer"), "weight").shape[0];
        return (output, ["batch", classes]);
    }
}
