using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

public class LowRankInjectorTests
{
    private static ToyBert NewModel()
    {
        torch.manual_seed(11);
        var model = new ToyBert();
        model.eval();
        return model;
    }

    [Fact]
    public void Suffix_targets_adapt_exactly_the_named_projections_and_leave_the_output_unchanged()
    {
        var model = NewModel();
        using var x = torch.randn(2, 3, 8);
        using var before = model.call(x);
        var baseKeys = model.state_dict().Keys.ToList();

        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query", "value"] });

        report.MatchedModules.Should().Equal(
            "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
            "encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value");
        report.Adapted.Should().OnlyContain(a => a.Rank == 2 && a.Scaling == 2.0);
        using var after = model.call(x);
        after.allclose(before, rtol: 0, atol: 1e-6).Should().BeTrue();

        var keys = model.state_dict().Keys.ToList();
        keys.Where(k => !k.Contains("lora_")).Should().BeEquivalentTo(baseKeys, "base parameter names must not change");
        keys.Should().Contain("encoder.layer.0.attention.self.query.lora_A.default.weight");
        keys.Should().Contain("encoder.layer.1.attention.self.value.lora_B.default.weight");
        model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name)
            .Should().HaveCount(8).And.OnlyContain(n => n.Contains(".lora_"));
    }

    [Fact]
    public void Only_adapter_parameters_receive_gradients_and_reach_the_optimizer()
    {
        var model = NewModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query", "dense"] });
        var frozen = model.named_parameters().Where(p => !p.name.Contains("lora_"))
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());

        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        trainable.Should().HaveCount(8);
        using var optimizer = torch.optim.SGD(trainable, 0.5);
        using var x = torch.randn(4, 3, 8);
        for (int step = 0; step < 2; step++)
        {
            optimizer.zero_grad();
            using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
            using var loss = model.call(x).pow(two).mean();
            loss.backward();
            optimizer.step();
        }

        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.Contains("lora_")) parameter.grad.Should().NotBeNull(name);
            else
            {
                parameter.grad.Should().BeNull(name);
                parameter.allclose(frozen[name], rtol: 0, atol: 0).Should().BeTrue($"{name} is frozen");
            }
        }
        model.named_parameters().Single(p => p.name == "encoder.layer.0.attention.self.query.lora_B.default.weight")
            .parameter.abs().sum().item<float>().Should().BeGreaterThan(0f, "B starts at zero and must have been trained");
    }

    [Fact]
    public void Regex_exclusions_layer_indices_and_rank_alpha_patterns_are_honoured()
    {
        var model = NewModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig
        {
            Rank = 2,
            Alpha = 2,
            TargetRegex = @"encoder\.layer\.\d+\.attention\.self\.(query|key|value)",
            ExcludeModules = ["key"],
            LayersToTransform = [1],
            RankPattern = new Dictionary<string, int> { ["value"] = 4 },
            AlphaPattern = new Dictionary<string, double> { [@"layer\.1\.attention\.self\.query"] = 8 },
        });

        // PEFT applies layers_to_transform to name lists only, never to a regex (check_target_module_exists).
        report.Adapted.Select(a => (a.Path, a.Rank, a.Alpha)).Should().Equal(
            ("encoder.layer.0.attention.self.query", 2, 2.0),
            ("encoder.layer.0.attention.self.value", 4, 2.0),
            ("encoder.layer.1.attention.self.query", 2, 8.0),
            ("encoder.layer.1.attention.self.value", 4, 2.0));

        var listed = LowRankInjector.Inject(NewModel(), new LoRAConfig
        {
            Rank = 2, TargetModules = ["query", "value"], LayersToTransform = [1], LayersPattern = ["layer"],
        });
        listed.MatchedModules.Should().Equal("encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value");
    }

    [Fact]
    public void Modules_to_save_stay_fully_trainable()
    {
        var model = NewModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"], ModulesToSave = ["classifier"] });

        report.ModulesToSave.Should().Equal("classifier");
        model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Should().BeEquivalentTo(
            "encoder.layer.0.attention.self.query.lora_A.default.weight", "encoder.layer.0.attention.self.query.lora_B.default.weight",
            "encoder.layer.1.attention.self.query.lora_A.default.weight", "encoder.layer.1.attention.self.query.lora_B.default.weight",
            "classifier.weight", "classifier.bias");
    }

    [Fact]
    public void Parameter_report_uses_PEFTs_line_with_independently_counted_parameters()
    {
        var model = NewModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"] });

        // Base: per layer 4 Linear(8,8) = 4·72, LayerNorm 16; classifier 27. Adapters: 2 layers · (2·8 + 8·2).
        long all = 2 * (4 * 72 + 16) + 27 + 2 * 32;
        report.Parameters.Should().Be(new ParameterReport(64, all));
        report.Parameters.ToString().Should().Be($"trainable params: 64 || all params: {all} || trainable%: {100.0 * 64 / all:F4}");
        new ParameterReport(1234567, 2345678).ToString().Should().Be("trainable params: 1,234,567 || all params: 2,345,678 || trainable%: 52.6316");
    }

    [Fact]
    public void A_target_that_matches_nothing_lists_the_candidate_linear_modules()
    {
        var model = NewModel();
        var error = FluentActions.Invoking(() => LowRankInjector.Inject(model, new LoRAConfig { TargetModules = ["q_proj"] }))
            .Should().Throw<InvalidConfigurationException>().Which;
        error.Message.Should().Contain("no module matches").And.Contain("encoder.layer.0.attention.self.query").And.Contain("classifier");
    }

    [Fact]
    public void Injecting_the_same_adapter_twice_is_an_error_but_a_second_named_adapter_is_added()
    {
        var model = NewModel();
        var config = new LoRAConfig { Rank = 2, TargetModules = ["query"] };
        LowRankInjector.Inject(model, config);

        FluentActions.Invoking(() => LowRankInjector.Inject(model, config))
            .Should().Throw<AdapterException>().WithMessage("*encoder.layer.0.attention.self.query*already carries adapter 'default'*");

        LowRankInjector.Inject(model, config, "second");
        var layer = model.named_modules().Single(m => m.name == "encoder.layer.0.attention.self.query").module.Should().BeOfType<LoRALinear>().Which;
        layer.AdapterNames.Should().Equal("default", "second");
    }

    [Fact]
    public void Targeting_a_non_linear_module_is_an_error()
    {
        var model = NewModel();
        FluentActions.Invoking(() => LowRankInjector.Inject(model, new LoRAConfig { TargetModules = ["norm"] }))
            .Should().Throw<AdapterException>().WithMessage("*encoder.layer.0.norm*LayerNorm, not a linear projection*");
    }

    [Fact]
    public void A_field_typed_as_sealed_Linear_is_adapted_in_place_and_keeps_its_object()
    {
        var model = new SealedFieldModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["proj"] });
        report.Adapted.Single().Mechanism.Should().Be(AdaptationMechanism.Substitution);
        report.ToString().Should().Contain("proj").And.Contain("Substitution");
        model.named_modules().First().module.Should().BeAssignableTo<LoRALayer>("the registered child is the adapted layer");
        model.parameters().Where(p => p.requires_grad).Should().HaveCount(2, "only lora_A and lora_B train");
    }

    [Fact]
    public void A_rank_above_the_module_size_is_rejected_before_anything_changes()
    {
        var model = NewModel();
        FluentActions.Invoking(() => LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, TargetModules = ["query", "classifier"] }))
            .Should().Throw<InvalidConfigurationException>().WithMessage("*classifier*Rank: must be at most min(in_features 8, out_features 3) = 3, got 4*");
        model.modules().OfType<LoRALayer>().Should().BeEmpty();
    }

    [Fact]
    public void Children_of_Sequential_are_replaced_in_its_own_list()
    {
        torch.manual_seed(3);
        var model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2));
        using var x = torch.randn(5, 4);
        using var before = model.call(x);

        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["0"], Init = LoRAInit.BothRandom });

        model.named_modules().First().module.Should().BeOfType<LoRALinear>();
        using var after = model.call(x);
        after.allclose(before, rtol: 1e-3, atol: 1e-3).Should().BeFalse("the random adapter must now be in the forward path");
    }
}
