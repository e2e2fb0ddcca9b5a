using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// A bf16/fp16 frozen base with float32 adapters, checked against the same model held entirely in float32.
/// Tolerances: bf16 keeps 8 significant bits (unit roundoff u = 2⁻⁸ ≈ 3.9e-3), fp16 11 (u = 2⁻¹¹ ≈ 4.9e-4). Through
/// tiny-bert's 2 layers every matmul input, weight and activation is rounded once or twice forward and again
/// backward, so relative gradient errors of several u are expected (measured: bf16 1.6–3.1e-2 ≈ 4–8u, fp16
/// 1.3–2.6e-3 ≈ 3–5u). We allow about 13u for bf16 (5e-2) and 20u for fp16 (1e-2): twice the worst measured error.
/// An adapter gradient computed in the half type (or a missed cast) fails by far more, or throws on mixed dtypes.
/// </summary>
public sealed class BasePrecisionTests
{
    private static LrcmtBuilder TinyBertWithLoRA(BaseDType dtype) => new LrcmtBuilder()
        .WithPretrainedEncoder(Fixtures.TinyBertFolder)
        .WithLoRA(new LoRAConfig { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] })
        .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
        .WithFusion(width: 8, heads: 2, layers: 1)
        .WithHeadDropout(0)
        .WithBaseDType(dtype);

    private static (Tensor Output, Dictionary<string, Tensor> Grads) Run(LRCMTModel model, LRCMT.Data.MultimodalBatch batch)
    {
        model.eval(); // no dropout: both precisions see the same function
        var output = model.call(batch);
        using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        output.pow(two).sum().backward();
        var grads = model.named_parameters().Where(p => p.name.Contains("lora_")).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        return (output.detach(), grads);
    }

    private static double RelativeError(Tensor actual, Tensor expected)
    {
        using var diff = (actual.to(ScalarType.Float32) - expected).norm();
        using var scale = expected.norm();
        return diff.item<float>() / Math.Max(scale.item<float>(), 1e-12);
    }

    [Theory]
    [InlineData(BaseDType.BFloat16, 5e-2)]
    [InlineData(BaseDType.Float16, 1e-2)]
    public void Adapter_gradients_on_a_half_base_match_the_fp32_model(BaseDType dtype, double tolerance)
    {
        manual_seed(70);
        using var reference = TinyBertWithLoRA(BaseDType.Float32).Build();
        manual_seed(70);
        using var half = TinyBertWithLoRA(dtype).Build();
        manual_seed(71);
        using var batch = ModelTestData.Batch();

        var (expectedOutput, expectedGrads) = Run(reference, batch);
        var (actualOutput, actualGrads) = Run(half, batch);

        actualOutput.dtype.Should().Be(ScalarType.Float32);
        RelativeError(actualOutput, expectedOutput).Should().BeLessThan(tolerance);
        actualGrads.Keys.Should().BeEquivalentTo(expectedGrads.Keys).And.HaveCount(8);
        foreach (var (name, grad) in actualGrads)
        {
            grad.dtype.Should().Be(ScalarType.Float32, name);
            RelativeError(grad, expectedGrads[name]).Should().BeLessThan(tolerance, name);
        }
    }

    [Fact]
    public void Only_the_frozen_base_changes_type_and_adapters_keep_their_exact_values()
    {
        manual_seed(72);
        using var reference = TinyBertWithLoRA(BaseDType.Float32).Build();
        manual_seed(72);
        using var half = TinyBertWithLoRA(BaseDType.BFloat16).Build();

        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in half.named_parameters())
        {
            bool baseWeight = name.StartsWith("text_encoder.", StringComparison.Ordinal) && !name.Contains("lora_");
            parameter.dtype.Should().Be(baseWeight ? ScalarType.BFloat16 : ScalarType.Float32, name);
            parameter.requires_grad.Should().Be(expected[name].requires_grad, name);
            if (!baseWeight) parameter.allclose(expected[name], rtol: 0, atol: 0).Should().BeTrue(name);
        }
    }

    [Fact]
    public void Full_fine_tuning_with_a_half_base_is_a_configuration_error()
    {
        var act = () => TinyBertWithLoRA(BaseDType.BFloat16).WithEncoderTuning(EncoderTuning.Full).Build();

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*BaseDType*Full*");
    }

    [Fact]
    public void Merging_into_a_bf16_base_rounds_once_and_unmerging_restores_the_weight_to_within_one_bf16_step()
    {
        manual_seed(73);
        using var linear = nn.Linear(32, 24);
        using var layer = new LoRALinear(linear);
        layer.AddAdapter("default", new LoRAConfig { Rank = 4, Alpha = 8, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] });
        foreach (var p in layer.named_parameters()) if (!p.name.Contains("lora_")) p.parameter.requires_grad = false;
        BasePrecision.Apply(layer, BaseDType.BFloat16);
        layer.eval();
        using var original = layer.Weight.detach().clone();
        using var input = randn(5, 32).to(ScalarType.BFloat16);
        using var unmerged = layer.call(input);

        using (no_grad()) layer.Merge();
        using var merged = layer.call(input);
        layer.Unmerge();

        layer.Weight.dtype.Should().Be(ScalarType.BFloat16);
        // Merged: W + ΔW is rounded to bf16 once, so outputs agree to bf16 precision, not exactly.
        RelativeError(merged, unmerged.to(ScalarType.Float32)).Should().BeLessThan(2e-2);
        // Unmerged: (round(W + ΔW) − ΔW) rounds again; each weight is off by at most one bf16 step of |W| + |ΔW|.
        using var delta = layer.DeltaWeight("default");
        using Scalar bf16Step = Math.Pow(2, -7);
        using var step = original.to(ScalarType.Float32).abs().add(delta.abs(), RootedScalars.One) * bf16Step;
        using var error = (layer.Weight.to(ScalarType.Float32) - original.to(ScalarType.Float32)).abs();
        error.le(step).all().item<bool>().Should().BeTrue();
    }
}
