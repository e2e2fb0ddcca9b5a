using FluentAssertions;
using LRCMT.Baselines;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>Shapes, padding and all-padding streams through every baseline, and the errors a wrong input or setting raises.</summary>
public sealed class BaselineShapeTests
{
    public static TheoryData<string> Kinds => BaselineTestModels.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Unaligned_padded_streams_give_one_finite_score_per_sample_even_where_a_stream_is_all_padding(string kind)
    {
        using var model = BaselineTestModels.Create(kind);
        model.eval();
        using var batch = BaselineTestModels.Batch(padding: double.NaN);
        using var _ = no_grad();

        using var scores = model.call(batch);

        scores.shape.Should().Equal(3);
        scores.isfinite().all().item<bool>().Should().BeTrue("NaN in the padding must never reach a prediction");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_sample_predicts_the_same_alone_as_inside_a_padded_batch(string kind)
    {
        using var model = BaselineTestModels.Create(kind);
        model.eval();
        using var batch = BaselineTestModels.Batch(padding: 1e4);
        using var _ = no_grad();
        using var together = model.call(batch);

        for (var row = 0; row < 3; row++)
        {
            using var alone = BaselineTestModels.Alone(batch, row);
            using var single = model.call(alone);
            (single[0] - together[row]).abs().item<float>().Should().BeLessThan(1e-5f, $"sample {row} must not see padding or other samples");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Several_outputs_give_one_logit_per_class(string kind)
    {
        using var model = BaselineTestModels.Create(kind, outputs: 3);
        model.eval();
        using var batch = BaselineTestModels.Batch(padding: 0);
        using var _ = no_grad();

        using var logits = model.call(batch);

        logits.shape.Should().Equal(3, 3);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Acoustic_features_of_the_wrong_size_are_rejected_naming_the_modality_and_both_shapes(string kind)
    {
        using var model = BaselineTestModels.Create(kind);
        using var batch = BaselineTestModels.Batch(padding: 0);
        using var bad = batch with { Acoustic = randn(3, 7, 9) };

        var act = () => model.call(bad);

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("acoustic") && e.Message.Contains("[3, 7, 9]"));
    }

    [Theory]
    [InlineData("MulT")]
    [InlineData("TFN")]
    [InlineData("LMF")]
    public void A_body_rejects_streams_that_do_not_fit_it(string kind)
    {
        using var body = BaselineTestModels.Body(kind, textWidth: 12);
        var text = new MaskedSequence(randn(2, 6, 12), ones(2, 6, dtype: ScalarType.Bool));
        var acoustic = new MaskedSequence(randn(2, 7, BaselineTestModels.Acoustic), ones(2, 7, dtype: ScalarType.Bool));

        ((Action)(() => body.call(text, acoustic, new MaskedSequence(randn(3, 5, BaselineTestModels.Visual), ones(3, 5, dtype: ScalarType.Bool)))))
            .Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("visual") && e.Message.Contains("[3, 5, 4]"));
        ((Action)(() => body.call(text, acoustic, new MaskedSequence(randn(2, 5, BaselineTestModels.Visual), ones(2, 4, dtype: ScalarType.Bool)))))
            .Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("visual features mask") && e.Message.Contains("[2, 4]"));
    }

    [Fact]
    public void A_body_built_for_another_text_width_is_refused_by_the_model()
    {
        var act = () => new BaselineModel(new FakeTextEncoder(hidden: 12), BaselineTestModels.Body("TFN", textWidth: 16));

        act.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("16") && e.Message.Contains("12"));
    }

    [Fact]
    public void Unusable_settings_list_every_problem_under_its_setting_name()
    {
        var mult = () => new MulTFusion(12, 5, 4, settings: new MulTSettings
        {
            CrossModal = new MulTSettings().CrossModal with { Heads = 7 }, VisualAttentionDropout = 1.5, TextKernelSize = 2,
        });
        mult.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().HaveCount(3)
            .And.Contain(p => p.Path == "CrossModal.Heads" && p.Message.Contains("Width"))
            .And.Contain(p => p.Path == "VisualAttentionDropout")
            .And.Contain(p => p.Path == "TextKernelSize");

        var tfn = () => new TfnFusion(12, 5, 4, settings: new TfnSettings { Subnetworks = new UnimodalSubnetworkSettings { TextHidden = 0 } });
        tfn.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle(p => p.Path == "Subnetworks.TextHidden");

        var lmf = () => new LmfFusion(12, 5, 4, outputs: 0, settings: new LmfSettings { Rank = 0 });
        lmf.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("outputs"));
        new LmfSettings { Rank = 0 }.FindProblems().Should().ContainSingle(p => p.Path == "Rank");

        new MagSettings { BetaShift = 0, GateDropout = -0.1, Alignment = (NonverbalAlignment)7 }.FindProblems().Select(p => p.Path).Should()
            .BeEquivalentTo("BetaShift", "GateDropout", "Alignment");
    }

    [Fact]
    public void MulT_follows_the_published_rule_for_the_self_attention_depth()
    {
        new MulTSettings().EffectiveSelfAttentionLayers.Should().Be(5, "max(5 layers, 3)");
        new MulTSettings { CrossModal = new MulTSettings().CrossModal with { Layers = 1 } }.EffectiveSelfAttentionLayers.Should().Be(3);
        new MulTSettings { SelfAttentionLayers = 2 }.EffectiveSelfAttentionLayers.Should().Be(2);

        using var body = new MulTFusion(12, 5, 4, settings: new MulTSettings { CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 1 } });
        var names = body.named_parameters().Select(p => p.name).ToList();
        names.Should().Contain("trans_v_mem.layers.2.fc1.weight").And.NotContain("trans_v_mem.layers.3.fc1.weight");
        names.Should().Contain("trans_a_with_v.layers.0.cross_attn.q_proj.weight").And.NotContain("trans_a_with_v.layers.1.fc1.weight");
        body.named_parameters().Single(p => p.name == "head.out_layer.weight").parameter.shape.Should().Equal(1, 6 * 8);
    }

    [Fact]
    public void The_relative_time_bias_when_asked_pairs_only_the_acoustic_and_visual_streams()
    {
        using var body = new MulTFusion(12, 5, 4, settings: new MulTSettings
        {
            CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 1, RelativeTimeBias = true },
        });

        body.named_parameters().Select(p => p.name).Where(n => n.EndsWith("time_slopes", StringComparison.Ordinal))
            .Should().BeEquivalentTo("trans_a_with_v.layers.0.cross_attn.time_slopes", "trans_v_with_a.layers.0.cross_attn.time_slopes");
        new MulTSettings().CrossModal.RelativeTimeBias.Should().BeFalse("MulT as published has no time bias");
    }
}
