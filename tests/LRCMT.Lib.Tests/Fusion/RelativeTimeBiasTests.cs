using FluentAssertions;
using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class RelativeTimeBiasTests
{
    [Fact]
    public void Frame_times_are_fractions_of_each_clips_real_length()
    {
        using var mask = FusionTestData.Mask(4, 4, 2);

        using var times = RelativeTime.FrameTimes(mask, 4, CPU);
        using var unmasked = RelativeTime.FrameTimes(null, 5, CPU);

        // (k + 1/2) / n for the k-th real frame: 4 real frames → 1/8, 3/8, 5/8, 7/8; 2 real frames → 1/4, 3/4.
        times[0].data<float>().ToArray().Should().Equal(0.125f, 0.375f, 0.625f, 0.875f);
        times[1, 0].item<float>().Should().Be(0.25f);
        times[1, 1].item<float>().Should().Be(0.75f);
        unmasked.shape.Should().Equal(1, 5);
        unmasked[0].data<float>().ToArray().Should().BeEquivalentTo(new[] { 0.1f, 0.3f, 0.5f, 0.7f, 0.9f }, o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    [Fact]
    public void Streams_of_different_lengths_agree_on_the_same_moment()
    {
        // 4 frames against 8 frames of the same clip: target frame 1 (3/8) lies between source frames 2 and 3 (5/16, 7/16).
        using var target = RelativeTime.FrameTimes(null, 4, CPU);
        using var source = RelativeTime.FrameTimes(null, 8, CPU);

        using var distance = RelativeTime.Distance(target, source);

        distance.shape.Should().Equal(1, 1, 4, 8);
        distance[0, 0, 1, 2].item<float>().Should().BeApproximately(1f / 16, 1e-6f);
        distance[0, 0, 1, 3].item<float>().Should().BeApproximately(1f / 16, 1e-6f);
        distance[0, 0, 1, 7].item<float>().Should().BeApproximately(15f / 16 - 6f / 16, 1e-6f);
    }

    [Fact]
    public void Biased_attention_matches_a_written_out_reference_and_trains_its_slopes()
    {
        manual_seed(3);
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0, relativeTimeBias: true);
        using var query = randn(2, 3, 8);
        using var source = randn(2, 5, 8);
        using var targetMask = FusionTestData.Mask(3, 3, 2);
        using var sourceMask = FusionTestData.Mask(5, 5, 3);
        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using (no_grad()) p["time_slopes"].copy_(tensor(new[] { 1.5f, 20f })); // away from the initial values
        using var distance = RelativeTime.Distance(RelativeTime.FrameTimes(targetMask, 3, CPU), RelativeTime.FrameTimes(sourceMask, 5, CPU));

        using var actual = attention.Attend(query, source, sourceMask, distance);
        actual.sum().backward();
        using var actualSlopeGrad = p["time_slopes"].grad!.clone();

        // Reference: scores − slope·|Δt|, padded keys removed, softmax, all written out; gradients by autograd.
        using var slopes = p["time_slopes"].detach().clone().requires_grad_(true);
        using var q = nn.functional.linear(query, p["q_proj.weight"], p["q_proj.bias"]).view(2, 3, 2, 4).transpose(1, 2);
        using var k = nn.functional.linear(source, p["k_proj.weight"], p["k_proj.bias"]).view(2, 5, 2, 4).transpose(1, 2);
        using var v = nn.functional.linear(source, p["v_proj.weight"], p["v_proj.bias"]).view(2, 5, 2, 4).transpose(1, 2);
        using Scalar two = 2.0, minusInfinity = double.NegativeInfinity; // held: a Scalar made inline may be finalised while libtorch reads it
        using var scores = q.matmul(k.transpose(2, 3)) / two - slopes.view(1, 2, 1, 1) * distance;
        using var masked = scores.masked_fill(sourceMask.logical_not().view(2, 1, 1, 5), minusInfinity);
        using var context = nn.functional.softmax(masked, -1).matmul(v).transpose(1, 2).reshape(2, 3, 8);
        using var expected = nn.functional.linear(context, p["out_proj.weight"], p["out_proj.bias"]);
        expected.sum().backward();

        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        actualSlopeGrad.abs().min().item<float>().Should().BeGreaterThan(0, "both heads' slopes must receive a gradient");
        actualSlopeGrad.allclose(slopes.grad!, rtol: 1e-4, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void A_source_without_real_frames_still_gives_zero_context_and_finite_gradients()
    {
        manual_seed(4);
        using var attention = new MultiheadCrossAttention(width: 8, heads: 2, dropout: 0, relativeTimeBias: true);
        using var query = randn(2, 3, 8, requires_grad: true);
        using var source = randn(2, 4, 8, requires_grad: true);
        using var sourceMask = FusionTestData.Mask(4, 4, 0);
        using var distance = RelativeTime.Distance(RelativeTime.FrameTimes(null, 3, CPU), RelativeTime.FrameTimes(sourceMask, 4, CPU));

        using var output = attention.Attend(query, source, sourceMask, distance);
        output.sum().backward();

        var bias = attention.named_parameters().Single(x => x.name == "out_proj.bias").parameter;
        output[1].allclose(bias.expand(3, 8), atol: 1e-6).Should().BeTrue();
        output.isfinite().all().item<bool>().Should().BeTrue();
        query.grad!.isfinite().all().item<bool>().Should().BeTrue();
        source.grad!.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void At_its_initial_slope_a_head_prefers_the_frames_at_the_same_moment()
    {
        // One head; zero query/key projections so scores carry no content; identity value and output projections and
        // one-hot source frames, so output[i, j] is the weight target frame i gives source frame j.
        using var attention = new MultiheadCrossAttention(width: 8, heads: 1, dropout: 0, relativeTimeBias: true);
        var p = attention.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using (no_grad())
        {
            foreach (var name in new[] { "q_proj.weight", "k_proj.weight", "q_proj.bias", "k_proj.bias", "v_proj.bias", "out_proj.bias" }) p[name].zero_();
            p["v_proj.weight"].copy_(eye(8));
            p["out_proj.weight"].copy_(eye(8));
        }
        using var source = eye(6, 8).unsqueeze(0);
        using var distance = RelativeTime.Distance(RelativeTime.FrameTimes(null, 6, CPU), RelativeTime.FrameTimes(null, 6, CPU));

        using var weights = attention.Attend(randn(1, 6, 8), source, null, distance)[0].narrow(1, 0, 6);
        using (no_grad()) p["time_slopes"].zero_();
        using var unbiased = attention.Attend(randn(1, 6, 8), source, null, distance)[0].narrow(1, 0, 6);

        weights.argmax(1).data<long>().ToArray().Should().Equal(0, 1, 2, 3, 4, 5);
        weights.sum(1).allclose(ones(6), atol: 1e-5).Should().BeTrue();
        using Scalar sixth = 1.0 / 6;
        unbiased.allclose(full_like(unbiased, sixth), atol: 1e-6).Should().BeTrue("a slope of 0 attends uniformly");
    }

    [Fact]
    public void Only_the_visual_acoustic_stage_gets_slopes_and_they_survive_save_and_load()
    {
        var architecture = ModelTestData.Options() with { Fusion = FusionTestData.Tiny(layers: 1) with { RelativeTimeBias = true } };
        using var model = ModelTestData.Model(architecture);

        var slopeNames = model.named_parameters().Select(p => p.name).Where(n => n.EndsWith("time_slopes")).ToList();
        using var plain = ModelTestData.Model();

        slopeNames.Should().BeEquivalentTo(
            "interaction.acoustic_from_visual.layers.0.cross_attn.time_slopes",
            "interaction.visual_from_acoustic.layers.0.cross_attn.time_slopes");
        plain.named_parameters().Should().NotContain(p => p.name.EndsWith("time_slopes"), "the bias is off by default");
        using var other = ModelTestData.Model(ModelTestData.Options(InteractionMode.TextToEachModality) with { Fusion = architecture.Fusion });
        other.named_parameters().Should().NotContain(p => p.name.EndsWith("time_slopes"), "text stages have no clip time");
    }

    [Fact]
    public void The_bias_changes_what_the_model_predicts_for_the_same_weights()
    {
        manual_seed(5);
        var withBias = ModelTestData.Options() with { Fusion = FusionTestData.Tiny(layers: 1) with { RelativeTimeBias = true } };
        using var biased = ModelTestData.Model(withBias);
        using var plain = ModelTestData.Model(withBias with { Fusion = withBias.Fusion! with { RelativeTimeBias = false } });
        var shared = biased.state_dict().Where(kv => !kv.Key.EndsWith("time_slopes")).ToDictionary(kv => kv.Key, kv => kv.Value);
        plain.load_state_dict(shared);
        biased.eval();
        plain.eval();
        using var batch = ModelTestData.Batch();

        using var a = biased.call(batch);
        using var b = plain.call(batch);

        a.isfinite().all().item<bool>().Should().BeTrue();
        a.allclose(b, atol: 1e-6).Should().BeFalse();
    }
}
