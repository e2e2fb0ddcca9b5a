using FluentAssertions;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class MultiheadCrossAttentionTests
{
    [Fact]
    public void Managed_attention_matches_libtorch_scaled_dot_product_attention_with_a_padding_mask()
    {
        manual_seed(1);
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0);
        using var query = randn(2, 3, 8);
        using var source = randn(2, 5, 8);
        using var mask = FusionTestData.Mask(5, 5, 2);

        using var actual = attention.call(query, source, mask);

        // Reference: the same projections fed to libtorch's fused kernel, which takes a bool "may attend" mask.
        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using var q = nn.functional.linear(query, p["q_proj.weight"], p["q_proj.bias"]).view(2, 3, 2, 4).transpose(1, 2);
        using var k = nn.functional.linear(source, p["k_proj.weight"], p["k_proj.bias"]).view(2, 5, 2, 4).transpose(1, 2);
        using var v = nn.functional.linear(source, p["v_proj.weight"], p["v_proj.bias"]).view(2, 5, 2, 4).transpose(1, 2);
        using var attnMask = mask.view(2, 1, 1, 5);
        using var context = nn.functional.scaled_dot_product_attention(q, k, v, attnMask).transpose(1, 2).reshape(2, 3, 8);
        using var expected = nn.functional.linear(context, p["out_proj.weight"], p["out_proj.bias"]);

        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void A_query_without_any_real_key_gets_a_zero_context_and_finite_gradients()
    {
        manual_seed(2);
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0);
        using var query = randn(2, 3, 8, requires_grad: true);
        using var source = randn(2, 4, 8, requires_grad: true);
        using var mask = FusionTestData.Mask(4, 4, 0); // second sample: empty source

        using var output = attention.call(query, source, mask);
        output.sum().backward();

        // Zero context → only out_proj's bias remains.
        var bias = attention.named_parameters().Single(x => x.name == "out_proj.bias").parameter;
        using var emptyRow = output[1];
        emptyRow.allclose(bias.expand(3, 8), atol: 1e-6).Should().BeTrue();
        output.isfinite().all().item<bool>().Should().BeTrue();
        query.grad!.isfinite().all().item<bool>().Should().BeTrue();
        source.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Projections_are_named_as_in_pytorch_so_adapters_can_target_them()
    {
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0);

        attention.named_children().Select(c => c.name).Should().BeEquivalentTo("q_proj", "k_proj", "v_proj", "out_proj");
    }
}
