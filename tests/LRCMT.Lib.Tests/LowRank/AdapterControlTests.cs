using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank;

public sealed class AdapterControlTests
{
    private static ToyBert BaseModel()
    {
        torch.manual_seed(5);
        var model = new ToyBert(8);
        model.eval();
        return model;
    }

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    private static ToyBert TwoAdapters()
    {
        var model = BaseModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["query"] }, "a");
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["value"] }, "b");
        return model;
    }

    [Fact]
    public void SetAdapter_switches_the_whole_model_and_layers_without_it_compute_the_base()
    {
        var model = TwoAdapters();
        using var x = randn(2, 3, 8);
        using var baseline = model.DisableAdapters().Let(_ => model.call(x));

        model.SetAdapter("b");
        using var withB = model.call(x);
        model.DeleteAdapter("a");
        model.SetAdapter("b");
        using var onlyB = model.call(x);

        MaxDiff(withB, onlyB).Should().BeLessThanOrEqualTo(1e-6f, "with 'b' active the query layers (adapter 'a' only) must not adapt");
        MaxDiff(withB, baseline).Should().BeGreaterThan(1e-4f);
        FluentActions.Invoking(() => model.SetAdapter("missing")).Should().Throw<AdapterException>().WithMessage("*missing*b*");
    }

    [Fact]
    public void DisableAdapters_is_a_scope_that_gives_the_base_output_and_restores_afterwards()
    {
        var model = BaseModel();
        using var x = randn(2, 3, 8);
        using var before = model.call(x);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"] });
        using var adapted = model.call(x);
        MergedModel.MergeAll(model);

        using (model.DisableAdapters())
        {
            using var inside = model.call(x);
            MaxDiff(inside, before).Should().BeLessThanOrEqualTo(1e-5f);
        }

        using var after = model.call(x);
        MaxDiff(after, adapted).Should().BeLessThanOrEqualTo(1e-5f);
        MaxDiff(after, before).Should().BeGreaterThan(1e-4f);
    }

    [Fact]
    public void DeleteAdapter_removes_its_tensors_and_keeps_the_others()
    {
        var model = TwoAdapters();
        var removed = model.DeleteAdapter("a");

        removed.Should().Be(2);
        var keys = model.state_dict().Keys.ToList();
        keys.Should().NotContain(k => k.Contains(".a.weight"));
        keys.Should().Contain("encoder.layer.0.attention.self.value.lora_A.b.weight");
        model.AdapterNames().Should().Equal("b");
        FluentActions.Invoking(() => model.DeleteAdapter("a")).Should().Throw<AdapterException>();
    }

    [Fact]
    public void MergeAndUnload_gives_plain_Linear_modules_the_base_keys_and_the_adapted_output()
    {
        var model = BaseModel();
        var baseKeys = model.state_dict().Keys.ToList();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["query", "value", "classifier"] });
        using var x = randn(2, 3, 8);
        using var adapted = model.call(x);

        var plain = model.MergeAndUnload();

        plain.Should().BeSameAs(model);
        plain.modules().OfType<LoRALayer>().Should().BeEmpty();
        plain.named_modules().Single(m => m.name == "encoder.layer.1.attention.self.query").module.Should().BeOfType<Linear>();
        plain.state_dict().Keys.Should().Equal(baseKeys);
        using var merged = model.call(x);
        MaxDiff(merged, adapted).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void MergeAndUnload_of_PEFTs_attention_layout_restores_the_encoder_layers_keys()
    {
        torch.manual_seed(8);
        var layer = new ManagedTransformerEncoderLayer(8, 2, 16, dropout: 0.0);
        layer.eval();
        var baseKeys = layer.state_dict().Keys.ToList();
        LowRankInjector.Inject(layer, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["self_attn", "linear1"] });
        using var x = randn(5, 2, 8);
        using var adapted = layer.call(x);

        layer.MergeAndUnload();

        layer.state_dict().Keys.Should().Equal(baseKeys);
        using var merged = layer.call(x);
        MaxDiff(merged, adapted).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void All_linear_on_BERT_selects_every_linear_layer_as_PEFT_does_for_a_model_without_output_embeddings()
    {
        using var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);

        var report = LowRankInjector.Inject(bert, new LoRAConfig { Rank = 2, TargetRegex = LoRAConfig.AllLinear });

        // PEFT's _maybe_include_all_linear_layers keeps every nn.Linear; for a BertModel (no output embeddings, no
        // SEQ_CLS head attribute) that includes the pooler.
        var expected = new[] { 0, 1 }.SelectMany(i => new[]
        {
            "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense",
        }.Select(s => $"encoder.layer.{i}.{s}")).Append("pooler.dense");
        report.MatchedModules.Should().BeEquivalentTo(expected);
    }

    [Fact]
    public void All_linear_with_a_sequence_classification_task_leaves_the_classifier_head_out()
    {
        var model = BaseModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = [LoRAConfig.AllLinear], TaskType = "SEQ_CLS" });

        report.MatchedModules.Should().NotContain("classifier").And.Contain("encoder.layer.0.dense");
    }

    [Theory]
    [InlineData(LoRABias.All)]
    [InlineData(LoRABias.LoraOnly)]
    public void Trained_biases_are_trainable_saved_under_PEFTs_names_and_restored(LoRABias bias)
    {
        var folder = Path.Combine(Path.GetTempPath(), "lrcmt-bias-" + Guid.NewGuid().ToString("N"));
        try
        {
            var model = BaseModel();
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["query"], Bias = bias });
            var trainableBiases = model.named_parameters().Where(p => p.parameter.requires_grad && p.name.EndsWith(".bias")).Select(p => p.name).ToList();
            if (bias == LoRABias.All) trainableBiases.Should().Contain("classifier.bias").And.Contain("encoder.layer.0.dense.bias");
            else trainableBiases.Should().BeEquivalentTo("encoder.layer.0.attention.self.query.bias", "encoder.layer.1.attention.self.query.bias");
            using Scalar shift = 0.25; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
            using (no_grad())
                foreach (var p in model.parameters().Where(p => p.requires_grad)) p.add_(shift, RootedScalars.One);
            using var x = randn(2, 3, 8);
            using var expected = model.call(x);

            PeftAdapterFile.Save(model, folder);
            var keys = LRCMT.Formats.Safetensors.SafetensorsFile.Load(Path.Combine(folder, PeftAdapterFile.WeightsFileName)).Keys.ToList();
            keys.Should().Contain("base_model.model.encoder.layer.0.attention.self.query.base_layer.bias");
            if (bias == LoRABias.All) keys.Should().Contain("base_model.model.classifier.bias");
            else keys.Should().NotContain(k => k.EndsWith(".dense.bias"));

            var restored = BaseModel();
            var report = PeftAdapterFile.Load(restored, folder);
            report.Config.Bias.Should().Be(bias);
            using var actual = restored.call(x);
            MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}

internal static class ScopeExtensions
{
    /// <summary>Runs <paramref name="body"/> inside the scope and disposes it.</summary>
    public static T Let<T>(this IDisposable scope, Func<IDisposable, T> body)
    {
        using (scope) return body(scope);
    }
}
