using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using LRCMT.TextEncoders.Roberta;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;

namespace LRCMT.Export;

/// <summary>
/// BERT and RoBERTa (<see cref="BertModel"/>, <see cref="RobertaModel"/>) as ONNX: embeddings, the Transformer layers
/// with Hugging Face's additive key-padding mask, and optionally the pooler — the same operations as their forward passes.
/// </summary>
internal static class TextEncoderGraph
{
    /// <summary>The graph values of the encoder's two outputs (the pooled one only when asked for and present).</summary>
    internal readonly record struct Outputs(string LastHiddenState, string? PooledOutput);

    public static Outputs Emit(GraphScope scope, TextEncoder encoder, string inputIds, string attentionMask, string tokenTypeIds, bool pooled)
    {
        var (config, embeddings) = encoder switch
        {
            BertModel bert => (bert.Config, Embeddings(scope.Child("embeddings"), ModuleTree.Child<BertEmbeddings>(bert, scope, "embeddings"), null, inputIds, tokenTypeIds)),
            RobertaModel roberta => (roberta.Config, Embeddings(scope.Child("embeddings"), ModuleTree.Child<RobertaEmbeddings>(roberta, scope, "embeddings"),
                roberta.Config.PadTokenId, inputIds, tokenTypeIds)),
            _ => throw ModuleTree.Unsupported(scope, encoder, "the exporter writes the text encoders BertModel and RobertaModel; another TextEncoder has a forward pass it does not know."),
        };
        ModuleTree.RequireOnly(encoder, scope, ["embeddings", "encoder", "pooler"]);

        // (1 − mask) · finfo(float32).min, [batch, 1, 1, seq]: BertModel.AdditiveMask.
        var keep = scope.Unsqueeze(scope.Cast(attentionMask, DataType.Float), 1, 2);
        var additiveMask = scope.Mul(scope.Sub(scope.Builder.Float(1f), keep), float.MinValue);

        var encoderModule = ModuleTree.Child<BertEncoder>(encoder, scope, "encoder");
        var encoderScope = scope.Child("encoder");
        ModuleTree.RequireOnly(encoderModule, encoderScope, ["layer"]);
        var layers = ModuleTree.Child<ModuleList<BertLayer>>(encoderModule, encoderScope, "layer");
        var hidden = embeddings;
        for (var i = 0; i < layers.Count; i++)
            hidden = Layer(encoderScope.Child("layer").Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), layers[i], config, hidden, additiveMask);

        string? pooledOutput = null;
        if (pooled && ModuleTree.ChildOrNull(encoder, "pooler") is { } pooler)
        {
            var poolerScope = scope.Child("pooler");
            if (pooler is not BertPooler) throw ModuleTree.Unsupported(poolerScope, pooler, "a BertPooler is expected here.");
            ModuleTree.RequireOnly(pooler, poolerScope, ["dense"]);
            var first = poolerScope.Gather(hidden, poolerScope.Builder.Int64Scalar(0), axis: 1);
            pooledOutput = poolerScope.Op("Tanh", ExportedLinear.Emit(poolerScope.Child("dense"), ModuleTree.ChildOrNull(pooler, "dense")!, first));
        }
        return new Outputs(hidden, pooledOutput);
    }

    // word + token type + position embeddings, LayerNorm (dropout is the identity at inference). RoBERTa numbers the
    // real tokens from pad + 1 and gives padding the position pad: cumsum(ids ≠ pad) · (ids ≠ pad) + pad.
    private static string Embeddings(GraphScope scope, nn.Module module, long? paddingIndex, string inputIds, string tokenTypeIds)
    {
        ModuleTree.RequireOnly(module, scope, ["word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm", "dropout"]);
        ModuleTree.RequireDropout(module, scope, "dropout");
        string Table(string name)
        {
            var embedding = ModuleTree.Child<Embedding>(module, scope, name);
            return scope.Builder.Weight(scope.Child(name).Key("weight"), embedding.weight!);
        }

        var words = scope.Gather(Table("word_embeddings"), inputIds);
        var types = scope.Gather(Table("token_type_embeddings"), tokenTypeIds);
        string positions;
        if (paddingIndex is { } pad)
        {
            var real = scope.Cast(scope.Op("Not", scope.Op("Equal", inputIds, scope.Builder.Int64Scalar(pad))), DataType.Int64);
            positions = scope.Add(scope.Mul(scope.CumSum(real, 1), real), scope.Builder.Int64Scalar(pad));
        }
        else
        {
            positions = scope.Range(scope.Dim(inputIds, 1));
        }
        var sum = scope.Add(scope.Add(words, types), scope.Gather(Table("position_embeddings"), positions));
        return LayerNorm(scope.Child("LayerNorm"), ModuleTree.Child<LayerNorm>(module, scope, "LayerNorm"), sum);
    }

    private static string Layer(GraphScope scope, BertLayer layer, BertConfig config, string hidden, string additiveMask)
    {
        ModuleTree.RequireOnly(layer, scope, ["attention", "intermediate", "output"]);
        var attentionScope = scope.Child("attention");
        var attention = ModuleTree.Child<BertAttention>(layer, scope, "attention");
        ModuleTree.RequireOnly(attention, attentionScope, ["self", "output"]);
        var context = SelfAttention(attentionScope.Child("self"), ModuleTree.Child<BertSelfAttention>(attention, attentionScope, "self"), config, hidden, additiveMask);
        var attended = ResidualOutput(attentionScope.Child("output"), ModuleTree.Child<BertResidualOutput>(attention, attentionScope, "output"), context, hidden);

        var intermediateScope = scope.Child("intermediate");
        var intermediate = ModuleTree.Child<BertIntermediate>(layer, scope, "intermediate");
        ModuleTree.RequireOnly(intermediate, intermediateScope, ["dense"]);
        var expanded = Activation(intermediateScope, config.HiddenAct,
            ExportedLinear.Emit(intermediateScope.Child("dense"), ModuleTree.ChildOrNull(intermediate, "dense")!, attended));
        return ResidualOutput(scope.Child("output"), ModuleTree.Child<BertResidualOutput>(layer, scope, "output"), expanded, attended);
    }

    private static string SelfAttention(GraphScope scope, BertSelfAttention module, BertConfig config, string hidden, string additiveMask)
    {
        ModuleTree.RequireOnly(module, scope, ["query", "key", "value"]);
        long heads = config.NumAttentionHeads, headWidth = config.HiddenSize / config.NumAttentionHeads;
        string Project(string name) => scope.Reshape(ExportedLinear.Emit(scope.Child(name), ModuleTree.ChildOrNull(module, name)!, hidden), 0, 0, heads, headWidth);

        var q = scope.Transpose(Project("query"), 0, 2, 1, 3);
        var k = scope.Transpose(Project("key"), 0, 2, 3, 1);
        var v = scope.Transpose(Project("value"), 0, 2, 1, 3);
        var attended = scope.Attention(q, k, v, additiveMask, headWidth);
        return scope.Reshape(scope.Transpose(attended, 0, 2, 1, 3), 0, 0, heads * headWidth);
    }

    private static string ResidualOutput(GraphScope scope, BertResidualOutput module, string hidden, string residual)
    {
        ModuleTree.RequireOnly(module, scope, ["dense", "LayerNorm", "dropout"]);
        ModuleTree.RequireDropout(module, scope, "dropout");
        var projected = ExportedLinear.Emit(scope.Child("dense"), ModuleTree.ChildOrNull(module, "dense")!, hidden);
        return LayerNorm(scope.Child("LayerNorm"), ModuleTree.Child<LayerNorm>(module, scope, "LayerNorm"), scope.Add(projected, residual));
    }

    /// <summary>Hugging Face's <c>hidden_act</c> functions as BertActivation computes them.</summary>
    private static string Activation(GraphScope scope, string name, string x)
    {
        switch (name)
        {
            case "gelu": // 0.5 · x · (1 + erf(x / √2))
                var erf = scope.Op("Erf", scope.Mul(x, (float)(1.0 / Math.Sqrt(2.0))));
                return scope.Mul(scope.Mul(x, scope.Add(erf, 1f)), 0.5f);
            case "gelu_new" or "gelu_pytorch_tanh": // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
                var cube = scope.Op("Pow", x, scope.Builder.Float(3f));
                var inner = scope.Mul(scope.Add(x, scope.Mul(cube, 0.044715f)), (float)Math.Sqrt(2.0 / Math.PI));
                return scope.Mul(scope.Mul(x, 0.5f), scope.Add(scope.Op("Tanh", inner), 1f));
            case "relu":
                return scope.Relu(x);
            default:
                throw new Errors.UnsupportedModuleException(scope.Path, "BertIntermediate", $"hidden_act '{name}' has no ONNX form in the exporter.");
        }
    }

    /// <summary><c>LayerNorm</c> with the module's own weight, bias and epsilon.</summary>
    internal static string LayerNorm(GraphScope scope, LayerNorm module, string x)
    {
        if (module.weight is null || module.bias is null)
            throw ModuleTree.Unsupported(scope, module, "a LayerNorm without elementwise weight and bias is not written by the exporter.");
        return scope.LayerNorm(x, scope.Builder.Weight(scope.Key("weight"), module.weight), scope.Builder.Weight(scope.Key("bias"), module.bias), module.eps);
    }
}
