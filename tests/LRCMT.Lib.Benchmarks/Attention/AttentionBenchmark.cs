using LRCMT.Attention;
using LRCMT.Benchmarks.Harness;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Attention;

/// <summary>Fused scaled_dot_product_attention (what the library uses) vs the written-out matmul–softmax–matmul it replaced.</summary>
public sealed class AttentionBenchmark : IBenchmarkGroup
{
    public string Name => "attention";

    public string Description => "attention forward+backward, bert-base self-attention [8, 12, 64, 64] and cross-modal [32, 4, 50x60, 16], padding masks";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        torch.manual_seed(4);
        foreach (var (label, b, h, lq, lk, d) in new[] { ("bert self", 8L, 12L, 64L, 64L, 64L), ("cross-modal", 32L, 4L, 50L, 60L, 16L) })
        {
            var q = randn(b, h, lq, d, requires_grad: true);
            var k = randn(b, h, lk, d, requires_grad: true);
            var v = randn(b, h, lk, d, requires_grad: true);
            var keys = ones(b, lk, ScalarType.Bool);
            keys[0, TensorIndex.Slice(lk / 2)] = tensor(false);
            var bias = FusedAttention.KeyPaddingBias(keys, ScalarType.Float32);
            yield return new BenchmarkCase($"{label}: written-out (matmul, softmax, matmul)", () =>
            {
                var scores = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(d)).add(bias);
                nn.functional.softmax(scores, -1).matmul(v).sum().backward();
            });
            yield return new BenchmarkCase($"{label}: fused scaled_dot_product_attention", () =>
                FusedAttention.Compute(q, k, v, bias, 0, training: true).sum().backward());
        }
    }
}
