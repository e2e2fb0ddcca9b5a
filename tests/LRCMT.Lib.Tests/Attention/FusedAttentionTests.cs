using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Attention;
using LRCMT.Fusion;
using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Attention;

public sealed class FusedAttentionTests
{
    private static double MaxAbs(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.item<float>();
    }

    [Fact]
    public void Fused_kernel_matches_the_written_out_path_forward_and_backward_in_fp32()
    {
        manual_seed(11);
        using var q = randn(3, 4, 7, 8, requires_grad: true);
        using var k = randn(3, 4, 9, 8, requires_grad: true);
        using var v = randn(3, 4, 9, 8, requires_grad: true);
        using var keys = tensor(new[,] { { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 0, 0, 0, 0, 0, 0 }, { 1, 0, 1, 0, 1, 0, 1, 0, 0 } });
        using var bias = FusedAttention.KeyPaddingBias(keys, ScalarType.Float32);
        using var upstream = randn(3, 4, 7, 8);

        using var fused = FusedAttention.Compute(q, k, v, bias, dropout: 0.5, training: false);
        (fused * upstream).sum().backward();
        var fusedGrads = new[] { q.grad!.clone(), k.grad!.clone(), v.grad!.clone() };
        foreach (var t in new[] { q, k, v }) t.grad!.zero_();

        using var reference = WrittenOutAttention.Compute(q, k, v, bias);
        (reference * upstream).sum().backward();

        MaxAbs(fused, reference).Should().BeLessThanOrEqualTo(1e-5);
        MaxAbs(fusedGrads[0], q.grad!).Should().BeLessThanOrEqualTo(1e-5);
        MaxAbs(fusedGrads[1], k.grad!).Should().BeLessThanOrEqualTo(1e-5);
        MaxAbs(fusedGrads[2], v.grad!).Should().BeLessThanOrEqualTo(1e-5);
        foreach (var g in fusedGrads) g.Dispose();
    }

    [Fact]
    public void Padded_keys_get_exactly_zero_weight_and_the_any_key_factor_marks_empty_samples()
    {
        using var keys = tensor(new[,] { { true, false, true }, { false, false, false } });

        using var bias = FusedAttention.KeyPaddingBias(keys, ScalarType.Float32);
        using var any = FusedAttention.AnyRealKey(keys, ScalarType.Float32);

        bias.shape.Should().Equal(2, 1, 1, 3);
        bias[0, 0, 0, 0].item<float>().Should().Be(0);
        bias[0, 0, 0, 1].item<float>().Should().Be(float.MinValue);
        any.shape.Should().Equal(2, 1, 1, 1);
        any.flatten().data<float>().ToArray().Should().Equal(1f, 0f);
    }

    [Fact]
    public void Bert_self_attention_matches_the_written_out_path_with_hugging_faces_additive_mask()
    {
        manual_seed(12);
        var config = new BertConfig { HiddenSize = 16, NumAttentionHeads = 4, AttentionProbsDropoutProb = 0.3 };
        using var attention = new BertSelfAttention(config);
        attention.eval();
        using var hidden = randn(2, 5, 16);
        using var keep = tensor(new float[,] { { 1, 1, 1, 1, 1 }, { 1, 1, 0, 0, 0 } });
        using Scalar one = 1.0, lowest = float.MinValue; // held: a Scalar made inline may be finalised while libtorch reads it
        using var mask = keep.negative().add(one, RootedScalars.One).mul(lowest).view(2, 1, 1, 5); // (1 - keep) · lowest, as 1.0 - keep computes it

        using var actual = attention.call(hidden, mask);

        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var q = WrittenOutAttention.Heads(nn.functional.linear(hidden, p["query.weight"], p["query.bias"]), 4);
        using var k = WrittenOutAttention.Heads(nn.functional.linear(hidden, p["key.weight"], p["key.bias"]), 4);
        using var v = WrittenOutAttention.Heads(nn.functional.linear(hidden, p["value.weight"], p["value.bias"]), 4);
        using var expected = WrittenOutAttention.Merge(WrittenOutAttention.Compute(q, k, v, mask));
        MaxAbs(actual, expected).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void Cross_attention_matches_the_old_written_out_path_including_a_sample_without_keys()
    {
        manual_seed(13);
        using var attention = new MultiheadCrossAttention(width: 12, heads: 3, dropout: 0);
        using var query = randn(3, 4, 12);
        using var source = randn(3, 6, 12);
        using var keys = tensor(new[,] { { true, true, true, true, true, true }, { true, true, false, false, false, false }, { false, false, false, false, false, false } });

        using var actual = attention.call(query, source, keys);

        // The former managed path: masked_fill with the most negative float, softmax, then multiply by the mask.
        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var q = WrittenOutAttention.Heads(nn.functional.linear(query, p["q_proj.weight"], p["q_proj.bias"]), 3);
        using var k = WrittenOutAttention.Heads(nn.functional.linear(source, p["k_proj.weight"], p["k_proj.bias"]), 3);
        using var v = WrittenOutAttention.Heads(nn.functional.linear(source, p["v_proj.weight"], p["v_proj.bias"]), 3);
        using var allowed = keys.view(3, 1, 1, 6);
        using Scalar two = 2.0, lowest = float.MinValue;
        using var scores = q.matmul(k.transpose(2, 3)).div(two).masked_fill(allowed.logical_not(), lowest);
        using var weights = nn.functional.softmax(scores, -1) * allowed.to(ScalarType.Float32);
        using var context = WrittenOutAttention.Merge(weights.matmul(v));
        using var expected = nn.functional.linear(context, p["out_proj.weight"], p["out_proj.bias"]);
        MaxAbs(actual, expected).Should().BeLessThanOrEqualTo(1e-5);
    }

    [Fact]
    public void A_sample_without_real_keys_passes_no_gradient_to_its_query_or_source()
    {
        manual_seed(14);
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0.2);
        attention.train();
        using var query = randn(2, 3, 8, requires_grad: true);
        using var source = randn(2, 4, 8, requires_grad: true);
        using var keys = tensor(new[,] { { true, true, false, true }, { false, false, false, false } });

        using var output = attention.call(query, source, keys);
        using Scalar two = 2;
        output.pow(two).sum().backward();

        query.grad!.isfinite().all().item<bool>().Should().BeTrue();
        source.grad!.isfinite().all().item<bool>().Should().BeTrue();
        query.grad![1].abs().max().item<float>().Should().Be(0);
        source.grad![1].abs().max().item<float>().Should().Be(0);
        query.grad![0].abs().max().item<float>().Should().BeGreaterThan(0);
    }

    // Training with dropout on the CPU runs the written-out operations itself (libtorch has no fused kernel for it):
    // in float32 the result and every gradient, including the additive term's, must equal libtorch's own fallback.
    [Fact]
    public void Cpu_training_with_dropout_equals_libtorchs_fallback_bit_for_bit_in_fp32()
    {
        using var scope = NewDisposeScope();
        manual_seed(15);
        var q = randn(3, 4, 7, 8, requires_grad: true);
        var k = randn(3, 4, 9, 8, requires_grad: true);
        var v = randn(3, 4, 9, 8, requires_grad: true);
        using Scalar half = 0.5;
        var scoreBias = (randn(1, 4, 7, 9) * half).requires_grad_();
        var keys = tensor(new[,] { { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0, 0, 0, 0 } });
        var upstream = randn(3, 4, 7, 8);
        Tensor[] leaves = [q, k, v, scoreBias];

        Tensor[] Run(Func<Tensor, Tensor> attend)
        {
            foreach (var t in leaves) t.grad?.zero_();
            manual_seed(40);
            var output = attend(FusedAttention.KeyPaddingBias(keys, ScalarType.Float32, scoreBias));
            (output * upstream).sum().backward();
            return [output.detach().clone(), .. leaves.Select(t => t.grad!.clone())];
        }

        var expected = Run(mask => nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.3));
        var actual = Run(mask => FusedAttention.Compute(q, k, v, mask, dropout: 0.3, training: true));

        for (int i = 0; i < expected.Length; i++)
            actual[i].allclose(expected[i], 0, 0).Should().BeTrue($"tensor {i} (output, then q, k, v, bias gradients) must be identical");
        var withoutDropout = FusedAttention.Compute(q, k, v, FusedAttention.KeyPaddingBias(keys, ScalarType.Float32, scoreBias), dropout: 0.3, training: false);
        actual[0].allclose(withoutDropout, 1e-3, 1e-3).Should().BeFalse("weights were dropped");
    }

    // In bfloat16 the CPU training path stays in bfloat16 where libtorch's fallback computes in float32: the drop
    // pattern is the same (same draws), so the two differ only by rounding. Outputs here are O(1), where one
    // bfloat16 step is 2⁻⁷ ≈ 0.008; four steps are allowed.
    [Fact]
    public void Cpu_training_with_dropout_in_bf16_stays_within_bf16_rounding_of_the_fp32_fallback()
    {
        using var scope = NewDisposeScope();
        manual_seed(16);
        var q = randn(2, 3, 11, 16).to(ScalarType.BFloat16);
        var k = randn(2, 3, 13, 16).to(ScalarType.BFloat16);
        var v = randn(2, 3, 13, 16).to(ScalarType.BFloat16);
        var keys = tensor(new[,] { { true, true, true, true, true, true, true, true, true, true, true, true, true }, { true, true, true, true, false, false, false, false, false, false, false, false, false } });

        manual_seed(41);
        var reference = nn.functional.scaled_dot_product_attention(q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32),
            FusedAttention.KeyPaddingBias(keys, ScalarType.Float32), 0.25);
        manual_seed(41);
        var actual = FusedAttention.Compute(q, k, v, FusedAttention.KeyPaddingBias(keys, ScalarType.BFloat16), dropout: 0.25, training: true);

        actual.dtype.Should().Be(ScalarType.BFloat16);
        MaxAbs(actual.to(ScalarType.Float32), reference).Should().BeLessThanOrEqualTo(4 * Math.Pow(2, -7));
    }
}

