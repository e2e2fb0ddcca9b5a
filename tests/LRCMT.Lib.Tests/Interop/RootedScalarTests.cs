using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Interop;

// The library's per-step paths pass libtorch only Scalars that stay referenced through the call. With numbers passed as
// TorchSharp converts them, these loops failed beside a busy collector within 500-1,200 optimizer steps ("Expected false
// to be true" from c10's Scalar.h); the step counts here leave a wide margin.
public class RootedScalarTests
{
    private const int Steps = 3000;

    [Fact]
    public void LeanAdamW_steps_with_weight_decay_and_amsgrad_beside_a_busy_collector()
    {
        var parameters = Enumerable.Range(0, 8).Select(_ => new Parameter(randn(16))).ToList();
        using var optimizer = new LeanAdamW(parameters, lr: 1e-3, weight_decay: 0.01, amsgrad: true);
        using var collector = new BusyCollector();

        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            foreach (var parameter in parameters) parameter.grad = ones(16);
            optimizer.step();
        }

        parameters.Should().OnlyContain(p => p.isfinite().all().item<bool>());
    }

    [Fact]
    public void A_LoRA_layer_trains_with_dropout_and_clipping_beside_a_busy_collector()
    {
        manual_seed(3);
        using var layer = new LoRALinear(nn.Linear(16, 16));
        layer.AddAdapter("default", new LoRAConfig { Rank = 4, Alpha = 8, Dropout = 0.1, Init = LoRAInit.BothRandom });
        layer.train();
        var trainable = layer.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new LeanAdamW(trainable, lr: 1e-3);
        using var collector = new BusyCollector();

        for (int step = 0; step < Steps / 3; step++)
        {
            using var scope = NewDisposeScope();
            var output = layer.call(ones(4, 16));
            output.mul(output).mean().backward();
            GradientClipping.ClipByGlobalNorm(trainable, 1.0);
            optimizer.step();
            optimizer.zero_grad();
        }

        trainable.Should().OnlyContain(p => p.isfinite().all().item<bool>());
    }

    [Fact]
    public void An_LRCMT_model_with_bert_and_adapters_trains_and_predicts_beside_a_busy_collector()
    {
        manual_seed(5);
        using var model = new LrcmtBuilder()
            .WithPretrainedEncoder(Fixtures.TinyBertFolder)
            .WithLoRA(new LoRAConfig { Rank = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["query", "value"] })
            .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
            .WithFusion(width: 8, heads: 2, layers: 1)
            .Build();
        using var batch = ModelTestData.Batch();
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = new LeanAdamW(trainable, lr: 1e-3, weight_decay: 0.01);
        using var collector = new BusyCollector();

        for (int step = 0; step < Steps / 75; step++)
        {
            using var scope = NewDisposeScope();
            model.train();
            var prediction = model.call(batch);
            prediction.mul(prediction).mean().backward();
            GradientClipping.ClipByGlobalNorm(trainable, 1.0);
            optimizer.step();
            optimizer.zero_grad();
            model.eval();
            using (no_grad()) model.call(batch);
        }

        trainable.Should().OnlyContain(p => p.isfinite().all().item<bool>());
    }
}
