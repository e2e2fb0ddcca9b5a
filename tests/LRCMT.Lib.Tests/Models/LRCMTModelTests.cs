using LRCMT.Interop;
using LRCMT.Configuration;
using FluentAssertions;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Models;
using LRCMT.Tests.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

public class LRCMTModelTests
{
    [Fact]
    public void Regression_returns_one_score_and_classification_one_logit_per_class()
    {
        manual_seed(20);
        using var batch = ModelTestData.Batch();
        using var regression = ModelTestData.Model();
        using var classification = ModelTestData.Model(ModelTestData.Options(head: HeadKind.Classification));

        using var scores = regression.call(batch);
        using var logits = classification.call(batch);

        scores.shape.Should().Equal(2);
        logits.shape.Should().Equal(2, 3);
    }

    [Theory]
    [InlineData(InteractionMode.AcousticVisualFirst, false)]
    [InlineData(InteractionMode.AcousticVisualFirst, true)]
    [InlineData(InteractionMode.TextToEachModality, false)]
    [InlineData(InteractionMode.TextToEachModality, true)]
    [InlineData(InteractionMode.TextOnly, false)]
    public void Changing_padded_positions_of_any_modality_does_not_change_the_prediction(InteractionMode mode, bool reverse)
    {
        manual_seed(21);
        using var model = ModelTestData.Model(ModelTestData.Options(mode, reverse));
        using var batch = ModelTestData.Batch();
        var textPadding = batch.AttentionMask.to(ScalarType.Bool).logical_not();
        using Scalar otherId = 17; // held: a Scalar made inline may be finalised while libtorch reads it
        using var repadded = batch with
        {
            InputIds = batch.InputIds.masked_fill(textPadding, otherId),
            Acoustic = FusionTestData.WithPadding(batch.Acoustic, batch.AcousticMask, 1e3),
            Visual = FusionTestData.WithPadding(batch.Visual, batch.VisualMask, double.NaN),
        };

        using var before = model.call(batch);
        using var after = model.call(repadded);

        after.allclose(before, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Real_acoustic_and_visual_frames_do_change_the_prediction()
    {
        manual_seed(22);
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();
        using var changed = batch with { Acoustic = batch.Acoustic.add(RootedScalars.One, RootedScalars.One), Visual = batch.Visual.sub(RootedScalars.One) }; // held: inline Scalars may be finalised while libtorch reads them

        using var before = model.call(batch);
        using var after = model.call(changed);

        after.allclose(before, atol: 1e-4).Should().BeFalse();
    }

    [Fact]
    public void Gradients_reach_fusion_and_head_but_not_the_frozen_encoder()
    {
        manual_seed(23);
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();

        using Scalar two = 2;
        using var loss = model.call(batch).pow(two).sum();
        loss.backward();

        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.StartsWith("text_encoder."))
            {
                parameter.grad.Should().BeNull(name);
                continue;
            }
            parameter.grad.Should().NotBeNull(name);
            parameter.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, name);
        }
    }

    [Fact]
    public void A_trainable_encoder_receives_gradients()
    {
        manual_seed(24);
        using var model = ModelTestData.Model(freezeEncoder: false);
        using var batch = ModelTestData.Batch();

        using var loss = model.call(batch).sum();
        loss.backward();

        var encoderGradientSums = model.named_parameters().Where(p => p.name.StartsWith("text_encoder."))
            .Select(p => p.parameter.grad is { } g ? g.abs().sum().item<float>() : 0f).ToList();
        encoderGradientSums.Should().HaveCount(3).And.OnlyContain(sum => sum > 0);
    }

    [Fact]
    public void Text_only_has_no_acoustic_or_visual_parameters_and_ignores_those_inputs()
    {
        manual_seed(25);
        using var model = ModelTestData.Model(ModelTestData.Options(InteractionMode.TextOnly));
        using var batch = ModelTestData.Batch();
        using var noise = batch with { Acoustic = randn_like(batch.Acoustic), Visual = randn_like(batch.Visual) };

        using var before = model.call(batch);
        using var after = model.call(noise);

        after.allclose(before).Should().BeTrue();
        model.named_parameters().Select(p => p.name).Should()
            .NotContain(n => n.StartsWith("acoustic_") || n.StartsWith("visual_") || n.StartsWith("interaction."));
    }

    [Fact]
    public void Each_interaction_owns_the_encoders_of_its_design()
    {
        using var lrcmt = ModelTestData.Model(ModelTestData.Options(InteractionMode.AcousticVisualFirst, reverse: true));
        using var direct = ModelTestData.Model(ModelTestData.Options(InteractionMode.TextToEachModality));

        Stages(lrcmt).Should().BeEquivalentTo("acoustic_from_visual", "visual_from_acoustic", "text_from_memory", "memory_from_text");
        Stages(direct).Should().BeEquivalentTo("text_from_acoustic", "text_from_visual");

        static IEnumerable<string> Stages(LRCMTModel model) => model.named_parameters()
            .Where(p => p.name.StartsWith("interaction.")).Select(p => p.name.Split('.')[1]).Distinct();
    }

    [Fact]
    public void A_sample_whose_acoustic_and_visual_frames_are_all_padding_still_gets_a_finite_prediction()
    {
        manual_seed(26);
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();
        using Scalar no = false;
        using var empty = batch with
        {
            AcousticMask = batch.AcousticMask.index_fill(0, tensor(new long[] { 1 }), no),
            VisualMask = batch.VisualMask.index_fill(0, tensor(new long[] { 1 }), no),
        };

        using var prediction = model.call(empty);

        prediction.isfinite().all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void A_description_with_several_problems_reports_all_of_them_at_their_paths()
    {
        var valid = ModelTestData.Options();
        var options = valid with
        {
            Head = valid.Head with { Kind = HeadKind.Classification, Classes = 1 },
            Modalities = valid.Modalities with { VisualFeatures = 0, TextKernelSize = 2 },
        };

        var act = () => LrcmtBuilder.FromOptions(options).WithTextEncoder(new FakeTextEncoder()).Build();

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Select(p => p.Path)
            .Should().BeEquivalentTo(["Head.Classes", "Modalities.VisualFeatures", "Modalities.TextKernelSize"]);
    }
}
