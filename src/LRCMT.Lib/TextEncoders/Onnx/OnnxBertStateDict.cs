using LRCMT.TextEncoders.Bert;
using static TorchSharp.torch;
using LRCMT.Formats.Onnx;

namespace LRCMT.TextEncoders.Onnx;

/// <summary>
/// Rebuilds Hugging Face names for the weights of a torch-exported BERT graph. The exporter keeps the names of
/// biases, LayerNorms and embeddings, but folds each Linear into <c>MatMul(x, Wᵀ)</c> + <c>Add(bias)</c> and stores
/// <c>Wᵀ</c> as an anonymous initializer; the bias that the following <c>Add</c> uses names the weight.
/// </summary>
internal static class OnnxBertStateDict
{
    private const string BiasSuffix = ".bias";

    /// <returns>Every weight found, under Hugging Face names (a <c>bert.</c> prefix kept if the export has one).</returns>
    public static Dictionary<string, Tensor> Build(OnnxGraph graph, string source)
    {
        var initializers = graph.Initializers.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First());
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);
        var result = new Dictionary<string, Tensor>();
        try
        {
            // A named weight or bias in another element type is reported as such (ToTorch names the type), not skipped
            // and then missed; named integer buffers (position_ids) are not weights and are left out.
            foreach (var tensor in graph.Initializers.Where(t => IsNamedWeight(t.Name) && (t.IsFloatingPoint || IsParameterName(t.Name))))
                result[tensor.Name] = tensor.ToTorch(source);

            foreach (var node in graph.Nodes)
            {
                if (NamedProjection(node, initializers, consumers) is not var (weight, name, transpose) || result.ContainsKey(name)) continue;
                using var stored = weight.ToTorch(source);
                result[name] = transpose ? stored.t().contiguous() : stored.alias();
            }

            return result;
        }
        catch
        {
            foreach (var tensor in result.Values) tensor.Dispose();
            throw;
        }
    }

    private static bool IsParameterName(string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(BiasSuffix, StringComparison.Ordinal);

    private static bool IsNamedWeight(string name)
    {
        var local = name.StartsWith(BertCheckpointKeys.TaskModelPrefix, StringComparison.Ordinal) ? name[BertCheckpointKeys.TaskModelPrefix.Length..] : name;
        return local.StartsWith("embeddings.", StringComparison.Ordinal) || local.StartsWith("encoder.", StringComparison.Ordinal)
            || local.StartsWith(BertCheckpointKeys.PoolerPrefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// For <c>MatMul(x, W)</c> followed by <c>Add(b)</c>, or <c>Gemm(x, W, b)</c>, with <c>W</c> an anonymous 2-D
    /// initializer and <c>b</c> a named bias: the initializer, the Linear weight's name, and whether it is stored
    /// transposed ([in, out]) relative to torch's [out, in].
    /// </summary>
    private static (OnnxTensor Weight, string Name, bool Transpose)? NamedProjection(
        OnnxNode node, IReadOnlyDictionary<string, OnnxTensor> initializers, ILookup<string, OnnxNode> consumers)
    {
        if (node.Inputs.Count < 2 || !initializers.TryGetValue(node.Inputs[1], out var weight)
            || weight.Dims.Length != 2 || !weight.IsFloatingPoint || IsNamedWeight(weight.Name))
            return null;

        switch (node.OpType)
        {
            case "MatMul" when node.Outputs.Count > 0:
                var bias = consumers[node.Outputs[0]]
                    .Where(n => n.OpType == "Add")
                    .SelectMany(n => n.Inputs)
                    .FirstOrDefault(i => i.EndsWith(BiasSuffix, StringComparison.Ordinal) && initializers.ContainsKey(i));
                return bias is null ? null : (weight, WeightName(bias), true);
            case "Gemm" when node.Inputs.Count == 3 && node.Inputs[2].EndsWith(BiasSuffix, StringComparison.Ordinal):
                var transB = node.Attributes.TryGetValue("transB", out var t) && t.Int == 1;
                return (weight, WeightName(node.Inputs[2]), !transB);
            default:
                return null;
        }
    }

    private static string WeightName(string biasName) => biasName[..^BiasSuffix.Length] + ".weight";
}
