using LRCMT.Formats.Onnx.Schema;
using DataType = LRCMT.Formats.Onnx.Schema.TensorProto.Types.DataType;
using static LRCMT.Export.OnnxGraphBuilder;

namespace LRCMT.Export;

/// <summary>
/// The ONNX operators the exporter uses, emitted on behalf of the module at <see cref="Path"/> (which names the nodes
/// and weights). Each helper is the ONNX spelling of one TorchSharp operation the modules' forward passes use.
/// </summary>
internal readonly record struct GraphScope(OnnxGraphBuilder Builder, string Path)
{
    /// <summary>The scope of a child module.</summary>
    public GraphScope Child(string name) => this with { Path = Path.Length == 0 ? name : $"{Path}.{name}" };

    /// <summary>The name a parameter of this module has in the state dict (and as an ONNX initializer).</summary>
    public string Key(string parameter) => Path.Length == 0 ? parameter : $"{Path}.{parameter}";

    public string Op(string opType, params string[] inputs) => Builder.Op(Path, opType, inputs);

    public string Op(string opType, string[] inputs, params AttributeProto[] attributes) => Builder.Op(Path, opType, inputs, attributes);

    public string Add(string a, string b) => Op("Add", a, b);
    public string Sub(string a, string b) => Op("Sub", a, b);
    public string Mul(string a, string b) => Op("Mul", a, b);
    public string Div(string a, string b) => Op("Div", a, b);
    public string MatMul(string a, string b) => Op("MatMul", a, b);
    public string Max(string a, string b) => Op("Max", a, b);
    public string Relu(string x) => Op("Relu", x);
    public string Neg(string x) => Op("Neg", x);
    public string Abs(string x) => Op("Abs", x);

    public string Mul(string a, float b) => Mul(a, Builder.Float(b));
    public string Add(string a, float b) => Add(a, Builder.Float(b));

    public string Cast(string x, DataType to) => Op("Cast", [x], Int("to", (long)to));
    public string Transpose(string x, params long[] perm) => Op("Transpose", [x], Ints("perm", perm));
    public string Reshape(string x, params long[] shape) => Op("Reshape", x, Builder.Int64s(shape));
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", x, Builder.Int64s(axes));
    public string Squeeze(string x, params long[] axes) => Op("Squeeze", x, Builder.Int64s(axes));
    public string Concat(long axis, params string[] values) => Op("Concat", values, Int("axis", axis));
    public string Softmax(string x) => Op("Softmax", [x], Int("axis", -1));
    public string Gather(string data, string indices, long axis = 0) => Op("Gather", [data, indices], Int("axis", axis));
    public string Where(string condition, string whenTrue, string whenFalse) => Op("Where", condition, whenTrue, whenFalse);
    public string ReduceSum(string x, long axis, bool keepDims) => Op("ReduceSum", [x, Builder.Int64s(axis)], Int("keepdims", keepDims ? 1 : 0));
    public string ReduceMax(string x, long axis, bool keepDims) => Op("ReduceMax", [x], Ints("axes", axis), Int("keepdims", keepDims ? 1 : 0));
    public string CumSum(string x, long axis) => Op("CumSum", x, Builder.Int64Scalar(axis));

    /// <summary>Size of dimension <paramref name="axis"/> of <paramref name="x"/>, as a rank-0 int64.</summary>
    public string Dim(string x, long axis) => Gather(Op("Shape", x), Builder.Int64Scalar(axis));

    /// <summary>0, 1, …, n − 1 (int64) for a rank-0 int64 <paramref name="count"/>.</summary>
    public string Range(string count) => Op("Range", Builder.Int64Scalar(0), count, Builder.Int64Scalar(1));

    /// <summary>torch's <c>masked_fill(mask, value)</c>, the mask broadcastable to <paramref name="x"/>.</summary>
    public string MaskedFill(string x, string mask, float value) => Where(mask, Builder.Float(value), x);

    /// <summary><c>F.linear(x, W, b)</c> given Wᵀ [in, out] (see <see cref="OnnxGraphBuilder.TransposedWeight"/>).</summary>
    public string Linear(string x, string transposedWeight, string? bias)
    {
        var projected = MatMul(x, transposedWeight);
        return bias is null ? projected : Add(projected, bias);
    }

    /// <summary><c>LayerNorm</c> over the last dimension.</summary>
    public string LayerNorm(string x, string weight, string bias, double epsilon) =>
        Op("LayerNormalization", [x, weight, bias], Int("axis", -1), Real("epsilon", (float)epsilon));

    /// <summary>softmax(q·kᵀ·scale + bias)·v over [batch, heads, length, headWidth] (what the fused kernel computes).</summary>
    public string Attention(string q, string kTransposed, string v, string? bias, long headWidth)
    {
        var scores = Mul(MatMul(q, kTransposed), (float)(1.0 / Math.Sqrt(headWidth)));
        if (bias is not null) scores = Add(scores, bias);
        return MatMul(Softmax(scores), v);
    }
}
