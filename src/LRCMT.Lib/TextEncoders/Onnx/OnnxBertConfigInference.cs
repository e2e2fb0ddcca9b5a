using LRCMT.Errors;
using LRCMT.TextEncoders.Bert;
using static TorchSharp.torch;
using LRCMT.Formats.Onnx;

namespace LRCMT.TextEncoders.Onnx;

/// <summary>
/// Recovers a <see cref="BertConfig"/> from an exported graph: sizes from weight shapes; what shapes cannot tell
/// (head count, activation, LayerNorm epsilon) from the graph's constants and operators.
/// </summary>
internal static class OnnxBertConfigInference
{
    /// <param name="graph">The parsed graph.</param>
    /// <param name="weights">Encoder weights under <see cref="BertModel"/> names.</param>
    /// <param name="source">Names the model in errors.</param>
    public static BertConfig Infer(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var what = $"BERT config inferred from ONNX model '{source}'";
        long[] Shape(string key) => weights.TryGetValue(key, out var t)
            ? t.shape
            : throw new InvalidConfigurationException(what, $"the graph has no initializer '{key}', so it is not a BERT encoder export.");

        var words = Shape("embeddings.word_embeddings.weight");
        if (words.Length != 2 || words.Any(d => d is < 1 or > int.MaxValue))
            throw new InvalidConfigurationException(what, $"embeddings.word_embeddings.weight has shape {ShapeMismatchException.Format(words)}, not [vocab, hidden].");
        var hidden = (int)words[1];
        var layerIndices = weights.Keys
            .Where(k => k.StartsWith("encoder.layer.", StringComparison.Ordinal))
            .Select(k => int.TryParse(k.Split('.')[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i
                : throw new InvalidConfigurationException(what, $"initializer '{k}' does not name a layer by number."))
            .Distinct().ToList();
        var layers = layerIndices.Count;
        long Size(string key, int dim) => Shape(key) is { } s && s.Length > dim && s[dim] is >= 1 and <= int.MaxValue ? s[dim]
            : throw new InvalidConfigurationException(what, $"initializer '{key}' has shape {ShapeMismatchException.Format(Shape(key))}, which no BERT export has.");
        var constants = Int64Constants(graph, source);
        var heads = HeadCount(graph, constants, hidden, what)
            ?? throw new InvalidConfigurationException(what, "the number of attention heads cannot be read from the graph; pass a BertConfig.");
        var hasPooler = weights.Keys.Any(k => k.StartsWith(BertCheckpointKeys.PoolerPrefix, StringComparison.Ordinal));

        return new BertConfig
        {
            VocabSize = (int)words[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = (int)Size("encoder.layer.0.intermediate.dense.bias", 0),
            MaxPositionEmbeddings = (int)Size("embeddings.position_embeddings.weight", 0),
            TypeVocabSize = (int)Size("embeddings.token_type_embeddings.weight", 0),
            HiddenAct = Activation(graph, hasPooler) ?? throw new InvalidConfigurationException(what, "the feed-forward activation cannot be recognised; pass a BertConfig."),
            LayerNormEps = LayerNormEpsilon(graph) ?? new BertConfig().LayerNormEps,
            AddPoolingLayer = hasPooler,
        };
    }

    /// <summary>
    /// The exporter splits heads with <c>Reshape(x, [batch, seq, heads, headSize])</c>: the shape is either a constant or a
    /// <c>Concat</c> whose last two parts are constants (one of them may be -1, "the rest"). Every split whose two parts
    /// multiply to the hidden size is read, with both parts in [1, hidden] before they are multiplied (so no product can
    /// wrap around 64 bits); they must all agree, and agree with the attention scale <c>QKᵀ / √headSize</c> when the graph
    /// divides the scores by a constant. A graph that disagrees with itself is refused rather than read one way.
    /// </summary>
    private static int? HeadCount(OnnxGraph graph, IReadOnlyDictionary<string, long[]> constants, int hidden, string what)
    {
        long? Scalar(string name) => constants.TryGetValue(name, out var v) && v.Length == 1 ? v[0] : null;
        var splits = new List<(long Heads, string Node)>();
        foreach (var node in graph.Nodes)
        {
            (long, long)? parts = node switch
            {
                { OpType: "Concat", Inputs.Count: 4 } when Scalar(node.Inputs[2]) is { } h && Scalar(node.Inputs[3]) is { } d => (h, d),
                { OpType: "Reshape", Inputs.Count: 2 } when constants.TryGetValue(node.Inputs[1], out var shape) && shape.Length == 4 => (shape[2], shape[3]),
                _ => null,
            };
            if (parts is var (heads, size) && HeadSplit(heads, size, hidden) is { } count) splits.Add((count, NodeName(node)));
        }

        var counts = splits.Select(s => s.Heads).Distinct().ToList();
        if (counts.Count > 1)
            throw new InvalidConfigurationException(what, "the graph splits attention heads in different ways: " +
                string.Join(", ", splits.GroupBy(s => s.Heads).Select(g => $"{g.Key} heads of {hidden / g.Key} at node '{g.First().Node}'")) +
                "; pass a BertConfig.");
        if (counts.Count == 0) return null;

        var headSize = hidden / counts[0];
        foreach (var scale in AttentionScales(graph))
        {
            // QKᵀ / c with c = √headSize (8 for heads of 64).
            var implied = scale * scale;
            if (Math.Abs(implied - headSize) > 1e-3 * headSize)
                throw new InvalidConfigurationException(what,
                    $"the graph splits {hidden} into {counts[0]} heads of {headSize}, but divides the attention scores by {scale.ToString(System.Globalization.CultureInfo.InvariantCulture)}, " +
                    $"which is √{implied.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}, not √{headSize}; pass a BertConfig.");
        }

        return (int)counts[0];
    }

    /// <summary>The head count of a [heads, headSize] split of <paramref name="hidden"/>, or null when it is not one (-1 stands for the rest).</summary>
    private static long? HeadSplit(long heads, long size, int hidden)
    {
        if (heads == -1 && size >= 1 && size <= hidden && hidden % size == 0) return hidden / size;
        if (size == -1 && heads >= 1 && heads <= hidden && hidden % heads == 0) return heads;
        // Both at most hidden (< 2³¹) here, so the product fits in 64 bits.
        return heads >= 1 && heads <= hidden && size >= 1 && size <= hidden && heads * size == hidden ? heads : null;
    }

    /// <summary>Float constants the graph divides a <c>MatMul</c>'s result by directly: the attention scale of an eager-attention export.</summary>
    private static IEnumerable<double> AttentionScales(OnnxGraph graph)
    {
        var producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var floats = FloatScalars(graph);
        foreach (var div in graph.Nodes.Where(n => n.OpType == "Div" && n.Inputs.Count == 2))
        {
            if (producers.TryGetValue(div.Inputs[0], out var numerator) && numerator.OpType == "MatMul"
                && floats.TryGetValue(div.Inputs[1], out var divisor) && double.IsFinite(divisor) && divisor > 0)
                yield return divisor;
        }
    }

    private static string NodeName(OnnxNode node) => string.IsNullOrEmpty(node.Name) ? node.OpType + " → " + string.Join(", ", node.Outputs) : node.Name;

    private static string? Activation(OnnxGraph graph, bool hasPooler)
    {
        var ops = graph.Nodes.Select(n => n.OpType).ToList();
        if (ops.Contains("Erf") || ops.Contains("Gelu")) return "gelu";
        if (ops.Contains("Relu")) return "relu";
        // The pooler contributes one Tanh; more mean the tanh-approximated GELU.
        return ops.Count(o => o == "Tanh") > (hasPooler ? 1 : 0) ? "gelu_new" : null;
    }

    /// <summary>From a fused <c>LayerNormalization</c>, or the constant added to the variance before <c>Sqrt</c>.</summary>
    private static double? LayerNormEpsilon(OnnxGraph graph)
    {
        var fused = graph.Nodes.FirstOrDefault(n => n.OpType == "LayerNormalization");
        if (fused is not null) return fused.Attributes.TryGetValue("epsilon", out var e) && e.Float is { } eps ? FloatToDouble(eps) : 1e-5;

        var producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var floats = FloatScalars(graph);
        foreach (var sqrt in graph.Nodes.Where(n => n.OpType == "Sqrt"))
        {
            if (sqrt.Inputs.Count > 0 && producers.TryGetValue(sqrt.Inputs[0], out var add) && add.OpType == "Add")
            {
                foreach (var input in add.Inputs)
                {
                    if (floats.TryGetValue(input, out var value)) return value;
                }
            }
        }

        return null;
    }

    // The graph stores eps as float32; its shortest decimal form (1E-12) is what the config said, not 9.9999998E-13.
    private static double FloatToDouble(float value) =>
        double.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<string, long[]> Int64Constants(OnnxGraph graph, string source) =>
        ConstantTensors(graph)
            .Where(t => t.Tensor.DataType == OnnxDataType.Int64 && t.Tensor.ElementCount is >= 0 and <= 8)
            .ToDictionary(t => t.Name, t => t.Tensor.ToInt64s(source));

    private static Dictionary<string, double> FloatScalars(OnnxGraph graph)
    {
        var result = new Dictionary<string, double>();
        foreach (var (name, tensor) in ConstantTensors(graph).Where(t => t.Tensor.DataType == OnnxDataType.Float && t.Tensor.ElementCount == 1))
        {
            using var value = tensor.ToTorch(name);
            result[name] = FloatToDouble(value.item<float>());
        }

        return result;
    }

    // Initializers and Constant nodes' values, by the value name the graph uses.
    private static IEnumerable<(string Name, OnnxTensor Tensor)> ConstantTensors(OnnxGraph graph) =>
        graph.Initializers.Select(t => (t.Name, t))
            .Concat(graph.Nodes
                .Where(n => n.OpType == "Constant" && n.Outputs.Count == 1 && n.Attributes.TryGetValue("value", out var a) && a.Tensor is not null)
                .Select(n => (n.Outputs[0], n.Attributes["value"].Tensor!)))
            .GroupBy(p => p.Item1).Select(g => g.First());
}
