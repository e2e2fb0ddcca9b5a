using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.NoEdit.NoEditSupport;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank.NoEdit;

/// <summary>LoRA on projections held in fields of the sealed Linear type and called with .forward().</summary>
public class SealedLinearInjectionTests
{
    private static LoRAConfig Config(params string[] targets) => new() { Rank = 2, Alpha = 4, TargetModules = [.. targets] };

    [Fact]
    public void Bert_style_sealed_fields_are_adapted_in_place_with_unchanged_output_and_base_keys()
    {
        torch.manual_seed(3);
        var model = new AttentionStack(sealedFields: true);
        model.eval();
        using var x = randn(2, 5, 8);
        using var before = model.call(x);
        var baseState = Snapshot(model);

        var report = LowRankInjector.Inject(model, Config("query", "value"));

        report.Adapted.Should().HaveCount(4).And.OnlyContain(a => a.Mechanism == AdaptationMechanism.Substitution);
        report.Model.Should().BeSameAs(model);
        using (no_grad()) model.call(x).allclose(before, rtol: 0, atol: 1e-6).Should().BeTrue();
        using (no_grad()) model.forward(x).allclose(before, rtol: 0, atol: 1e-6).Should().BeTrue("right after injection no refresh is needed");
        var state = model.state_dict();
        foreach (var (key, tensor) in baseState)
            state[key].equal(tensor).all().item<bool>().Should().BeTrue($"base tensor '{key}' keeps its key and value");
        state.Keys.Should().Contain("layer.0.query.lora_A.default.weight").And.Contain("layer.1.value.lora_B.default.weight");
        model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()).Should().Be(4 * (2 * 8 + 8 * 2));
        report.Parameters.TrainableParameters.Should().Be(4 * (2 * 8 + 8 * 2));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Twenty_AdamW_steps_follow_the_replacement_path(bool dora, bool rsLora)
    {
        var (sealedModel, reference) = Twins(() => new AttentionStack(sealedFields: true), () => new AttentionStack(sealedFields: false));
        var config = Config("query", "value") with { UseDora = dora, UseRsLora = rsLora, Rank = 3, Alpha = 6 };
        LowRankInjector.Inject(reference, config).Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Replacement);
        LowRankInjector.Inject(sealedModel, config).Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Substitution);
        CopyAdapters(reference, sealedModel);
        var baseState = Snapshot(sealedModel).Where(kv => !kv.Key.Contains(".lora_")).ToDictionary();

        torch.manual_seed(8);
        using var x = randn(4, 5, 8);
        using var y = randn(4, 3);
        var expected = Train(reference, x, y, 20);
        var actual = Train(sealedModel, x, y, 20);

        actual.Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-5);
        expected[^1].Should().BeLessThan(expected[0], "the adapters must actually train");
        var trained = sealedModel.state_dict();
        var referenceState = reference.state_dict();
        foreach (var key in trained.Keys.Where(k => k.Contains(".lora_")))
            MaxDifference(trained[key], referenceState[key]).Should().BeLessThan(1e-5, key);
        trained.Where(kv => !kv.Key.Contains(".lora_")).ToDictionary().ShouldEqualBitwise(baseState);
    }

    [Fact]
    public void A_forward_loop_with_RefreshAdapters_equals_the_call_loop()
    {
        var (viaCall, viaForward) = Twins(() => new AttentionStack(sealedFields: true), () => new AttentionStack(sealedFields: true));
        LowRankInjector.Inject(viaCall, Config("query", "key", "value"));
        LowRankInjector.Inject(viaForward, Config("query", "key", "value"));
        CopyAdapters(viaCall, viaForward);
        using var x = randn(3, 4, 8);
        using var y = randn(3, 3);

        var expected = Train(viaCall, x, y, 6);
        var actual = Train(viaForward, x, y, 6, viaForward: true);

        actual.Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-6);
    }

    [Fact]
    public void A_stale_forward_fails_its_backward_and_the_next_refresh_names_the_layers()
    {
        torch.manual_seed(4);
        var model = new AttentionStack(sealedFields: true, layers: 1);
        LowRankInjector.Inject(model, Config("query"));
        var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 0.05);
        using var x = randn(2, 3, 8);
        using var y = randn(2, 3);

        nn.functional.mse_loss(model.forward(x), y).backward(); // fresh after injection: fine
        optimizer.step();
        optimizer.zero_grad();
        var stale = nn.functional.mse_loss(model.forward(x), y); // no refresh after the step
        var backward = () => stale.backward();
        backward.Should().Throw<Exception>("the stale gradient is refused");

        var refresh = () => LowRankInjector.RefreshAdapters(model);
        refresh.Should().Throw<StaleAdapterWeightsException>()
            .Where(e => e.LayerPaths.SequenceEqual(new[] { "layer.0.query" }) && e.Message.Contains("RefreshAdapters"));
        model.parameters().Where(p => p.requires_grad).Should().OnlyContain(p => ReferenceEquals(p.grad, null) || p.grad.abs().sum().item<float>() == 0,
            "no gradient of the stale forward reached the adapters");
        LowRankInjector.RefreshAdapters(model).Should().Be(1, "the error is reported once, and the weights are fresh again");
        nn.functional.mse_loss(model.forward(x), y).backward();
    }

    [Fact]
    public void Gradient_accumulation_over_several_forwards_without_a_step_is_not_stale()
    {
        var (accumulated, reference) = Twins(() => new AttentionStack(sealedFields: true), () => new AttentionStack(sealedFields: false));
        var config = Config("query") with { Init = LoRAInit.BothRandom };
        LowRankInjector.Inject(reference, config);
        LowRankInjector.Inject(accumulated, config);
        CopyAdapters(reference, accumulated);
        using var x = randn(2, 3, 8);
        using var y = randn(2, 3);

        foreach (var model in new nn.Module<Tensor, Tensor>[] { reference, accumulated })
            for (int micro = 0; micro < 2; micro++)
                nn.functional.mse_loss(model.forward(x), y).backward();

        var expected = reference.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, parameter) in accumulated.named_parameters().Where(p => p.parameter.requires_grad))
            MaxDifference(parameter.grad!, expected[name]).Should().BeLessThan(1e-5, name);
        LowRankInjector.RefreshAdapters(accumulated);
    }

    [Fact]
    public void Merge_disable_and_several_adapters_work_on_a_substituted_layer()
    {
        torch.manual_seed(6);
        var model = new AttentionStack(sealedFields: true);
        model.eval();
        using var x = randn(2, 4, 8);
        using var baseOutput = model.forward(x);
        LowRankInjector.Inject(model, Config("value") with { Init = LoRAInit.BothRandom });
        LowRankInjector.Inject(model, Config("value") with { Init = LoRAInit.BothRandom, Rank = 1 }, "second");
        var layer = model.modules().OfType<LoRALayer>().First();
        layer.AdapterNames.Should().Equal("default", "second");

        using var adapted = model.forward(x);
        MaxDifference(adapted, baseOutput).Should().BeGreaterThan(1e-3, "a random adapter changes the output");
        MergedModel.MergeAll(model).Should().Be(2);
        using (var merged = model.forward(x)) MaxDifference(merged, adapted).Should().BeLessThan(1e-5);
        MergedModel.UnmergeAll(model);
        using (var unmerged = model.forward(x)) MaxDifference(unmerged, adapted).Should().BeLessThan(1e-5);

        foreach (var l in model.modules().OfType<LoRALayer>()) l.SetActiveAdapter("second");
        using (var second = model.forward(x)) MaxDifference(second, adapted).Should().BeGreaterThan(1e-4);
        foreach (var l in model.modules().OfType<LoRALayer>()) l.DisableAdapters();
        using (var disabled = model.forward(x)) MaxDifference(disabled, baseOutput).Should().BeLessThan(1e-6);
    }

    [Fact]
    public void To_round_trip_keeps_outputs_and_training_reaches_only_the_adapters()
    {
        torch.manual_seed(9);
        var model = new AttentionStack(sealedFields: true);
        LowRankInjector.Inject(model, Config("query", "value") with { Init = LoRAInit.BothRandom });
        model.eval();
        using var x = randn(2, 3, 8);
        using var before = model.forward(x);

        model.to(ScalarType.Float64);
        using (var wide = model.forward(x.to(ScalarType.Float64)))
            MaxDifference(wide.to(ScalarType.Float32), before).Should().BeLessThan(1e-5);
        model.to(ScalarType.Float32);
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float32);
        model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()).Should().Be(4 * 2 * 2 * 8, "only adapters are trainable after moving");
        using (var back = model.forward(x)) MaxDifference(back, before).Should().BeLessThan(1e-6);

        using var y = randn(2, 3);
        var losses = Train(model, x, y, 5);
        losses[^1].Should().BeLessThan(losses[0]);
    }

    [Fact]
    public void Dropout_needs_an_explicit_opt_in_on_layers_adapted_in_place()
    {
        torch.manual_seed(2);
        var model = new AttentionStack(sealedFields: true);
        var before = Snapshot(model);

        var act = () => LowRankInjector.Inject(model, Config("query") with { Dropout = 0.1 });

        act.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("AllowDropoutOnSubstitutedLayers"));
        Snapshot(model).ShouldEqualBitwise(before);
        LowRankInjector.Inject(model, Config("query") with { Dropout = 0.1, AllowDropoutOnSubstitutedLayers = true })
            .Adapted.Should().HaveCount(2);
    }

    [Fact]
    public void A_failing_injection_leaves_a_model_with_sealed_fields_bit_identical()
    {
        torch.manual_seed(2);
        var model = new AttentionStack(sealedFields: true);
        model.eval();
        using var x = randn(2, 3, 8);
        using var output = model.forward(x);
        var before = Snapshot(model);
        var types = model.named_modules().Select(m => (m.name, m.module.GetType())).ToList();

        // 'classifier' has 3 outputs, so rank 4 cannot fit; the attention targets before it must stay untouched.
        var act = () => LowRankInjector.Inject(model, Config("query", "classifier") with { Rank = 4 });

        act.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("classifier"));
        Snapshot(model).ShouldEqualBitwise(before);
        model.named_modules().Select(m => (m.name, m.module.GetType())).Should().Equal(types);
        using var after = model.forward(x);
        after.equal(output).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Gpt_style_fused_qkv_is_substituted_and_the_sequential_mlp_replaced()
    {
        var (gpt, reference) = Twins(() => new GptStyleBlock(), () => new ReplaceableGptBlock());
        gpt.eval();
        using var x = randn(2, 4, 8);
        using var before = gpt.forward(x);
        var config = Config("c_attn", "mlp.c_fc", "mlp.c_proj");

        var report = LowRankInjector.Inject(gpt, config);
        LowRankInjector.Inject(reference, config);

        report.Adapted.Select(a => (a.Path, a.Mechanism)).Should().Equal(
            ("c_attn", AdaptationMechanism.Substitution), ("mlp.c_fc", AdaptationMechanism.Replacement), ("mlp.c_proj", AdaptationMechanism.Replacement));
        using (var after = gpt.forward(x)) MaxDifference(after, before).Should().BeLessThan(1e-6);
        CopyAdapters(reference, gpt);
        using var y = randn(2, 4, 8);
        var expected = Train(reference, x, y, 20);
        Train(gpt, x, y, 20).Zip(expected).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-5);
    }

    [Fact]
    public void A_PEFT_adapter_saved_from_sealed_fields_loads_into_a_fresh_instance()
    {
        var (trained, fresh) = Twins(() => new AttentionStack(sealedFields: true), () => new AttentionStack(sealedFields: true));
        LowRankInjector.Inject(trained, Config("query", "value"));
        using var x = randn(2, 3, 8);
        Train(trained, x, randn(2, 3), 5);
        var folder = Path.Combine(Path.GetTempPath(), $"lrcmt-noedit-{Guid.NewGuid():N}");
        try
        {
            PeftAdapterFile.Save(trained, folder);
            var keys = LRCMT.Formats.Safetensors.SafetensorsFile.Load(Path.Combine(folder, PeftAdapterFile.WeightsFileName)).Keys;
            keys.Should().Contain("base_model.model.layer.0.query.lora_A.weight").And.Contain("base_model.model.layer.1.value.lora_B.weight");

            PeftAdapterFile.Load(fresh, folder);
            fresh.eval();
            using var expected = trained.forward(x);
            using var actual = fresh.forward(x);
            MaxDifference(actual, expected).Should().BeLessThan(1e-6, "the loaded weights reach the modules without a refresh");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Linears_in_a_ModuleList_of_the_sealed_type_are_adapted_in_place()
    {
        torch.manual_seed(21);
        var model = new LinearListModel();
        using var x = randn(3, 6);
        using var before = model.forward(x);

        var report = LowRankInjector.Inject(model, Config("heads.0", "heads.1") with { Init = LoRAInit.BothRandom });

        report.Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Substitution);
        using var after = model.forward(x);
        MaxDifference(after, before).Should().BeGreaterThan(1e-4, "the random adapters are in the forward path");
        MergedModel.MergeAll(model);
        using var merged = model.forward(x);
        MaxDifference(merged, after).Should().BeLessThan(1e-5);
    }

    [Fact]
    public void MergeAndUnload_hands_the_sealed_fields_their_own_Linear_back_with_the_merged_weight()
    {
        torch.manual_seed(22);
        var model = new AttentionStack(sealedFields: true);
        model.eval();
        var baseKeys = model.state_dict().Keys.ToList();
        LowRankInjector.Inject(model, Config("query", "value") with { Init = LoRAInit.BothRandom });
        using var x = randn(2, 3, 8);
        using var adapted = model.forward(x);

        model.MergeAndUnload().Should().BeSameAs(model);

        model.state_dict().Keys.Should().Equal(baseKeys);
        model.modules().OfType<LoRALayer>().Should().BeEmpty();
        model.named_modules().Where(m => m.name.EndsWith("query")).Select(m => m.module).Should().AllBeOfType<Linear>();
        using var merged = model.forward(x);
        MaxDifference(merged, adapted).Should().BeLessThan(1e-5);
    }
}
