using TorchSharp;
using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.Tests.Fusion;
using LRCMT.Tests.TestSupport;
using LRCMT.Tests.TextEncoders;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

public class LoRAIntegrationTests
{
    private static LrcmtBuilder TinyBertWithLoRA() => new LrcmtBuilder()
        .WithPretrainedEncoder(Fixtures.TinyBertFolder)
        // Both matrices random so A receives a non-zero gradient too (with B = 0 it would be exactly zero).
        .WithLoRA(new LoRAConfig { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] })
        .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
        .WithFusion(width: 8, heads: 2, layers: 1)
        .WithHeadDropout(0);

    [Fact]
    public void Gradients_reach_adapters_fusion_and_head_and_nothing_frozen()
    {
        manual_seed(40);
        using var model = TinyBertWithLoRA().Build();
        using var batch = ModelTestData.Batch();

        using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
        using var loss = model.call(batch).pow(two).sum();
        loss.backward();

        var parameters = model.named_parameters().ToList();
        var encoderTrainable = parameters.Where(p => p.name.StartsWith("text_encoder.") && p.parameter.requires_grad).Select(p => p.name).ToList();
        encoderTrainable.Should().HaveCount(2 * 2 * 2, "A and B for query and value in each of tiny-bert's 2 layers")
            .And.OnlyContain(n => n.Contains(".lora_A.default.") || n.Contains(".lora_B.default."));
        foreach (var (name, parameter) in parameters)
        {
            if (!parameter.requires_grad)
            {
                parameter.grad.Should().BeNull(name);
                continue;
            }
            parameter.grad.Should().NotBeNull(name);
            parameter.grad!.abs().sum().item<float>().Should().BeGreaterThan(0, name);
        }
    }

    [Fact]
    public void With_bert_and_adapters_padded_tokens_and_frames_still_do_not_change_the_prediction()
    {
        manual_seed(41);
        using var model = TinyBertWithLoRA().Build();
        model.eval();
        using var batch = ModelTestData.Batch();
        var textPadding = batch.AttentionMask.to(ScalarType.Bool).logical_not();
        using Scalar otherId = 57;
        using var repadded = batch with
        {
            InputIds = batch.InputIds.masked_fill(textPadding, otherId),
            Acoustic = FusionTestData.WithPadding(batch.Acoustic, batch.AcousticMask, -1e4),
            Visual = FusionTestData.WithPadding(batch.Visual, batch.VisualMask, 1e4),
        };

        using var before = model.call(batch);
        using var after = model.call(repadded);

        after.allclose(before, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Adapters_inject_into_bert_only_never_into_the_fusion_attention()
    {
        using var model = TinyBertWithLoRA().WithLoRA(l => l with { TargetModules = ["query", "value", "q_proj"] }).Build();

        model.named_parameters().Where(p => p.name.Contains("lora_")).Should()
            .OnlyContain(p => p.name.StartsWith("text_encoder.encoder.layer."));
    }

    [Fact]
    public void MiniLM_from_its_onnx_file_builds_with_adapters()
    {
        var onnx = Path.Combine(Path.GetTempPath(), $"lrcmt-minilm-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(onnx, MiniLMResources.ReadModel());
        try
        {
            using var model = new LrcmtBuilder().WithOnnxEncoder(onnx).WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
                .WithFusion(8, 2, 1).Build();
            using var batch = ModelTestData.Batch(size: 1);
            var report = model.GetParameterReport();

            using var scores = model.call(batch);
            scores.shape.Should().Equal(1);

            model.TextEncoder.HiddenSize.Should().Be(384);
            // 6 layers × (query, value) × (A: 8×384 + B: 384×8).
            model.named_parameters().Where(p => p.name.Contains("lora_")).Sum(p => p.parameter.numel()).Should().Be(6 * 2 * 2 * 8 * 384);
            report.TrainableParameters.Should().BeLessThan(report.AllParameters / 20);
        }
        finally
        {
            File.Delete(onnx);
        }
    }
}
