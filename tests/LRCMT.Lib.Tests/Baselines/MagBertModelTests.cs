using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Baselines;
using LRCMT.Errors;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>How the MAG gate is injected into a loaded encoder, and how frames are lined up with tokens.</summary>
public sealed class MagBertModelTests
{
    [Fact]
    public void The_gate_joins_the_model_without_renaming_a_single_encoder_parameter()
    {
        using var plain = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using var model = new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), 5, 4);

        var encoderNames = model.named_parameters().Select(p => p.name).Where(n => n.StartsWith("text_encoder.", StringComparison.Ordinal))
            .Select(n => n["text_encoder.".Length..]);
        encoderNames.Should().Equal(plain.named_parameters().Select(p => p.name));
        model.named_parameters().Select(p => p.name).Should().Contain(["gate.visual_gate.weight", "gate.shift_bias", "gate.layer_norm.weight", "classifier.weight"]);
    }

    [Fact]
    public void Outside_the_models_forward_the_encoder_computes_plain_text_states()
    {
        using var plain = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using var model = new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), 5, 4);
        using var batch = BaselineTestModels.Batch(padding: 0);
        using var _ = no_grad();
        model.call(batch).Dispose(); // the hook has run once

        var gated = model.TextEncoder.call(batch.InputIds, batch.AttentionMask, null).LastHiddenState;
        var reference = plain.call(batch.InputIds, batch.AttentionMask, null).LastHiddenState;

        (gated - reference).abs().max().item<float>().Should().Be(0);
    }

    [Fact]
    public void A_frozen_encoder_still_passes_gradients_to_the_gate_below_it()
    {
        var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        foreach (var p in bert.parameters()) p.requires_grad = false;
        using var model = new MagBertModel(bert, 5, 4, settings: new MagSettings { InjectionLayer = 0 });
        using var batch = BaselineTestModels.Batch(padding: 0);

        model.call(batch).sum().backward();

        var gateGradient = model.named_parameters().Single(p => p.name == "gate.acoustic_gate.weight").parameter.grad;
        gateGradient.Should().NotBeNull();
        gateGradient!.abs().sum().item<float>().Should().BeGreaterThan(0);
        bert.parameters().Where(p => p.grad is not null).Should().BeEmpty();
    }

    [Fact]
    public void Only_bert_family_encoders_with_enough_layers_can_carry_the_gate_and_only_one_gate_each()
    {
        var fake = () => new MagBertModel(new FakeTextEncoder(), 5, 4);
        fake.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("BERT-family") && e.Message.Contains(nameof(FakeTextEncoder)));

        var tooDeep = () => new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), 5, 4, settings: new MagSettings { InjectionLayer = 3 });
        tooDeep.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("InjectionLayer") && e.Message.Contains("2 layers"));

        var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        using var first = new MagBertModel(bert, 5, 4);
        var second = () => new MagBertModel(bert, 5, 4);
        second.Should().Throw<AdapterException>().Where(e => e.Message.Contains("already carries a MAG gate"));
    }

    [Fact]
    public void As_given_alignment_needs_streams_as_long_as_the_text()
    {
        using var model = new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), 5, 4, settings: new MagSettings { Alignment = NonverbalAlignment.AsGiven });
        using var batch = BaselineTestModels.Batch(padding: 0);

        var act = () => model.call(batch);

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("acoustic") && e.Message.Contains("AsGiven") && e.Message.Contains("[3, 6, 5]"));
    }

    [Fact]
    public void Word_aligned_frames_come_out_of_the_resampling_unchanged()
    {
        // MMSA's aligned data: as many real frames as real tokens, frame i with token i.
        var textMask = Fusion_Mask(6, 6, 4, 1);
        var frames = randn(3, 6, 5);

        using var resampled = TextTimeResampling.ToText(frames, textMask, textMask, NonverbalAlignment.ResampleToText, "acoustic");
        using var asGiven = TextTimeResampling.ToText(frames, textMask, textMask, NonverbalAlignment.AsGiven, "acoustic");

        (resampled - asGiven).abs().max().item<float>().Should().Be(0);
        (resampled[0] - frames[0]).abs().max().item<float>().Should().Be(0);
        resampled[1, 4..].abs().sum().item<float>().Should().Be(0, "padded tokens get no frame");
    }

    [Fact]
    public void Each_token_averages_the_frames_in_its_share_of_the_clip_or_takes_the_nearest()
    {
        // 2 real tokens, 4 real frames at 1/8, 3/8, 5/8, 7/8: token 0 covers [0, 1/2) → frames 0, 1; token 1 → frames 2, 3.
        var frames = RootedScalars.Arange(6, ScalarType.Float32, CPU).view(1, 6, 1); // frame j has value j; frames 4, 5 are padding
        var frameMask = Fusion_Mask(6, 4);
        var textMask = Fusion_Mask(3, 2);
        using var averaged = TextTimeResampling.ToText(frames, frameMask, textMask, NonverbalAlignment.ResampleToText, "visual");
        averaged.flatten().data<float>().ToArray().Should().Equal(0.5f, 2.5f, 0f);

        // 3 real tokens, 1 real frame at 1/2: it falls in token 1's share [1/3, 2/3); tokens 0 and 2 take the nearest frame.
        using var spread = TextTimeResampling.ToText(frames, Fusion_Mask(6, 1), Fusion_Mask(3, 3), NonverbalAlignment.ResampleToText, "visual");
        spread.flatten().data<float>().ToArray().Should().Equal(0f, 0f, 0f);
        using var spread2 = TextTimeResampling.ToText(frames.add(RootedScalars.One, RootedScalars.One), Fusion_Mask(6, 1), Fusion_Mask(3, 3), NonverbalAlignment.ResampleToText, "visual");
        spread2.flatten().data<float>().ToArray().Should().Equal(1f, 1f, 1f);
    }

    private static Tensor Fusion_Mask(long length, params long[] lengths) => LRCMT.Tests.Fusion.FusionTestData.Mask(length, lengths);
}
