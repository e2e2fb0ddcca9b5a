using LRCMT.Tests.TextEncoders;
using LRCMT.TextEncoders;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// One-layer BERT exports laid out as torch.onnx.export writes them, with one lie each: the head split's constants
/// (zero, negative, not dividing the width, past 32 or 64 bits), a named weight of another element type (float16,
/// int64, double, string), an initializer whose dimensions claim more than its bytes (up to products that overflow
/// 64 bits), a negative dimension, a missing weight, or a non-finite LayerNorm epsilon.
/// </summary>
internal static class HostileOnnxGenerator
{
    private enum Lie { Heads, HeadSize, Dtype, ClaimedDims, NegativeDim, MissingWeight, Epsilon }

    private static readonly long[] Counts = [0, -1, 1, 3, 5, 7, 16, int.MaxValue, 1L << 32, 1L << 62, long.MaxValue, long.MinValue];

    internal static (byte[] Bytes, string How) Generate(Random random)
    {
        var lie = (Lie)random.Next(Enum.GetValues<Lie>().Length);
        manual_seed(2);
        using var model = new BertModel(FuzzSeeds.TinyBert);
        var weights = model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        string victim = weights[random.Next(weights.Count)].Key;
        string how = lie.ToString();
        long heads = 2, headSize = 4;
        float epsilon = 1e-12f;
        switch (lie)
        {
            case Lie.Heads: heads = Counts[random.Next(Counts.Length)]; how = $"heads constant {heads}"; break;
            case Lie.HeadSize: headSize = Counts[random.Next(Counts.Length)]; how = $"head size constant {headSize}"; break;
            case Lie.Epsilon: epsilon = new[] { float.NaN, float.PositiveInfinity, -1f, 0f }[random.Next(4)]; how = $"epsilon {epsilon}"; break;
        }

        var writer = new OnnxTestModelWriter();
        int next = 900;
        foreach (var (key, value) in weights)
        {
            bool lied = key == victim && lie is Lie.Dtype or Lie.ClaimedDims or Lie.NegativeDim or Lie.MissingWeight;
            bool named = value.dim() != 2 || key.StartsWith("embeddings.", StringComparison.Ordinal);
            bool pooler = key.StartsWith("pooler.", StringComparison.Ordinal);
            string name = named ? key : (next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (lied) how = WriteLie(writer, lie, name, value, random);
            else if (named || pooler) writer.Initializer(name, value);
            else
            {
                using var transposed = value.t();
                writer.Initializer(name, transposed);
            }

            if (named) continue;
            string bias = key[..^".weight".Length] + ".bias";
            if (pooler)
            {
                writer.Node("Gemm", ["first", name, bias], ["pooled"], ("transB", a => a.Int(3, 1)));
                continue;
            }

            writer.Node("MatMul", ["hidden", name], [$"p{name}"]);
            writer.Node("Add", [bias, $"p{name}"], [$"s{name}"]);
        }

        writer.Int64Constant("heads", heads);
        writer.Int64Constant("head_size", headSize);
        writer.Node("Concat", ["batch", "sequence", "heads", "head_size"], ["split"], ("axis", a => a.Int(3, 0)));
        writer.Node("Erf", ["x"], ["erf"]);
        writer.FloatConstant("eps", epsilon);
        writer.Node("Add", ["variance", "eps"], ["variance_eps"]);
        writer.Node("Sqrt", ["variance_eps"], ["std"]);
        return (writer.ToArray(), how);
    }

    private static string WriteLie(OnnxTestModelWriter writer, Lie lie, string name, Tensor value, Random random)
    {
        long elements = value.numel();
        switch (lie)
        {
            case Lie.Dtype:
            {
                // onnx.proto element types: 10 float16, 7 int64, 11 double, 8 string; bytes of the claimed type's size.
                var (type, size) = new[] { (10, 2), (7, 8), (11, 8), (8, 1) }[random.Next(4)];
                writer.RawInitializer(name, value.shape, new byte[elements * size], type);
                return $"{name} stored as element type {type}";
            }
            case Lie.ClaimedDims:
            {
                long[] dims = random.Next(3) switch
                {
                    0 => [1L << 32, 1L << 32],
                    1 => [long.MaxValue, 2],
                    _ => [.. value.shape.Select(d => d * 1000)],
                };
                writer.RawInitializer(name, dims, new byte[elements * 4]);
                return $"{name} claims dimensions [{string.Join(", ", dims)}] over {elements * 4} bytes";
            }
            case Lie.NegativeDim:
                writer.RawInitializer(name, [-1, .. value.shape.Skip(1)], new byte[elements * 4]);
                return $"{name} has dimension -1";
            default:
                return $"{name} missing";
        }
    }
}
