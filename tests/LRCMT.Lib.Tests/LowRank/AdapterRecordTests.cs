using LRCMT.Interop;
using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

/// <summary>One record per adapter (PEFT's peft_config): kept by Inject, read by GetAdapterConfig, written by Save, checked by Load.</summary>
public sealed class AdapterRecordTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-record-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static ToyBert BaseModel()
    {
        torch.manual_seed(21);
        var model = new ToyBert();
        model.eval();
        return model;
    }

    private JsonObject WrittenConfig() => JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)))!.AsObject();

    private void EditWrittenConfig(Action<JsonObject> edit)
    {
        var config = WrittenConfig();
        edit(config);
        File.WriteAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName), config.ToJsonString());
    }

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    // Three of four adapted layers have rank 2 through the pattern, so a vote over the layers would write r = 2.
    private static LoRAConfig Configured() => new()
    {
        Rank = 4, Alpha = 8, Dropout = 0.1, TargetModules = ["query", "value"], Init = LoRAInit.BothRandom,
        RankPattern = new Dictionary<string, int> { ["value"] = 2, ["layer.0.attention.self.query"] = 2 },
    };

    [Fact]
    public void The_record_is_what_Inject_was_given_and_Save_writes_it_without_a_vote_over_the_layers()
    {
        var model = BaseModel();
        LowRankInjector.Inject(model, Configured());

        var record = model.GetAdapterConfig("default");
        record.Rank.Should().Be(4);
        record.TargetModules.Should().Equal("query", "value");
        record.RankPattern.Should().BeEquivalentTo(new Dictionary<string, int> { ["value"] = 2, ["layer.0.attention.self.query"] = 2 });
        model.AdapterConfigs().Keys.Should().Equal("default");

        PeftAdapterFile.Save(model, _folder);
        var written = WrittenConfig();
        written["r"]!.GetValue<int>().Should().Be(4);
        written["lora_alpha"]!.GetValue<int>().Should().Be(8);
        written["lora_dropout"]!.GetValue<double>().Should().Be(0.1);
        written["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("query", "value");
        written["rank_pattern"]!.AsObject().Select(kv => (kv.Key, kv.Value!.GetValue<int>()))
            .Should().BeEquivalentTo(new[] { ("layer.0.attention.self.query", 2), ("value", 2) });
        written["init_lora_weights"]!.GetValue<bool>().Should().BeFalse();
    }

    [Fact]
    public void All_linear_is_recorded_as_the_module_names_it_selected()
    {
        var model = BaseModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetRegex = LoRAConfig.AllLinear, TaskType = "SEQ_CLS" });

        var record = model.GetAdapterConfig();
        record.TargetRegex.Should().BeNull();
        record.TargetModules.Should().BeEquivalentTo(report.MatchedModules, "all-linear minus the SEQ_CLS head, as full paths");
        record.TargetModules.Should().NotContain("classifier");
        PeftAdapterFile.Save(model, _folder);
        WrittenConfig()["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Should().BeEquivalentTo(report.MatchedModules);
    }

    [Fact]
    public void A_loaded_adapter_records_the_files_configuration_and_reloads_into_its_own_model()
    {
        var trained = BaseModel();
        LowRankInjector.Inject(trained, Configured());
        PeftAdapterFile.Save(trained, _folder);

        var restored = BaseModel();
        var report = PeftAdapterFile.Load(restored, _folder);

        report.Model.Should().BeSameAs(restored);
        var record = restored.GetAdapterConfig();
        record.Rank.Should().Be(4);
        record.Dropout.Should().Be(0.1);
        record.TargetModules.Should().Equal("query", "value");
        // Loading the same folder again checks it against that record, and it agrees.
        PeftAdapterFile.Load(restored, _folder).Injection.Should().BeNull();
    }

    [Theory]
    [InlineData("r", 16, "adapter_config.json field 'r': the model's adapter 'default' has 4, the file has 16")]
    [InlineData("lora_alpha", 16, "adapter_config.json field 'lora_alpha': the model's adapter 'default' has 8, the file has 16")]
    public void A_tampered_adapter_config_is_a_typed_error_naming_the_field(string field, int value, string message)
    {
        var trained = BaseModel();
        LowRankInjector.Inject(trained, Configured());
        PeftAdapterFile.Save(trained, _folder);
        EditWrittenConfig(c => c[field] = value);

        // As a saved LRCMT model is loaded: the adapter is injected from the run's configuration, then its file is read.
        var restored = BaseModel();
        LowRankInjector.Inject(restored, Configured());
        var before = restored.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var error = FluentActions.Invoking(() => PeftAdapterFile.Load(restored, _folder))
            .Should().Throw<AdapterConfigMismatchException>().Which;

        error.Message.Should().StartWith(message);
        error.Disagreements.Should().ContainSingle().Which.Field.Should().Be(field);
        foreach (var (key, tensor) in restored.state_dict())
            tensor.equal(before[key]).all().item<bool>().Should().BeTrue($"nothing is loaded ({key})");
    }

    [Fact]
    public void A_file_that_adapts_other_modules_than_the_model_is_refused_by_target_modules()
    {
        var source = BaseModel();
        LowRankInjector.Inject(source, new LoRAConfig { Rank = 2, TargetModules = ["query", "value"] });
        PeftAdapterFile.Save(source, _folder);
        var target = BaseModel();
        LowRankInjector.Inject(target, new LoRAConfig { Rank = 2, TargetModules = ["query", "key"] });

        FluentActions.Invoking(() => PeftAdapterFile.Load(target, _folder))
            .Should().Throw<AdapterConfigMismatchException>().Which.Disagreements.Select(d => d.Field).Should().Equal("target_modules");
    }

    [Fact]
    public void A_file_naming_all_linear_agrees_with_a_model_that_recorded_the_resolved_names()
    {
        var trained = BaseModel();
        LowRankInjector.Inject(trained, new LoRAConfig { Rank = 2, TargetModules = [LoRAConfig.AllLinear], Init = LoRAInit.BothRandom });
        PeftAdapterFile.Save(trained, _folder);
        EditWrittenConfig(c => c["target_modules"] = LoRAConfig.AllLinear);
        var restored = BaseModel();
        LowRankInjector.Inject(restored, new LoRAConfig { Rank = 2, TargetModules = [LoRAConfig.AllLinear] });

        FluentActions.Invoking(() => PeftAdapterFile.Load(restored, _folder)).Should().NotThrow();
    }

    [Fact]
    public void Layers_given_an_adapter_by_hand_are_described_by_their_paths_and_settings()
    {
        torch.manual_seed(5);
        var first = new LoRALinear(nn.Linear(6, 6));
        first.AddAdapter("default", new LoRAConfig { Rank = 2, Alpha = 4, Init = LoRAInit.BothRandom });
        var second = new LoRALinear(nn.Linear(6, 3));
        second.AddAdapter("default", new LoRAConfig { Rank = 3, Alpha = 4, Init = LoRAInit.BothRandom });
        var model = nn.Sequential(first, nn.ReLU(), second);

        var record = model.GetAdapterConfig();

        record.TargetModules.Should().Equal("0", "2");
        record.Rank.Should().Be(2);
        record.RankPattern.Should().BeEquivalentTo(new Dictionary<string, int> { ["2"] = 3 });

        using var x = randn(4, 6);
        using var expected = model.call(x);
        PeftAdapterFile.Save(model, _folder);
        torch.manual_seed(5);
        var plain = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3));
        using (no_grad())
        {
            plain.state_dict()["0.weight"].copy_(first.Weight);
            plain.state_dict()["0.bias"].copy_(first.Bias!);
            plain.state_dict()["2.weight"].copy_(second.Weight);
            plain.state_dict()["2.bias"].copy_(second.Bias!);
        }
        PeftAdapterFile.Load(plain, _folder).Injection!.Adapted.Select(a => (a.Path, a.Rank)).Should().Equal(("0", 2), ("2", 3));
        using var actual = plain.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void Saving_from_a_parent_writes_full_paths_when_the_configured_names_would_select_more()
    {
        torch.manual_seed(8);
        var model = new TwoBerts();
        LowRankInjector.Inject(model.A, new LoRAConfig { Rank = 2, TargetModules = ["query"], Init = LoRAInit.BothRandom });
        using var x = randn(2, 3, 8);
        using var expected = model.call(x);

        PeftAdapterFile.Save(model, _folder);

        // "query" would also select b's query projections under PEFT's rule; the file names a's exactly.
        WrittenConfig()["target_modules"]!.AsArray().Select(n => n!.GetValue<string>())
            .Should().Equal("a.encoder.layer.0.attention.self.query", "a.encoder.layer.1.attention.self.query");
        torch.manual_seed(8);
        var restored = new TwoBerts();
        PeftAdapterFile.Load(restored, _folder).Injection!.MatchedModules.Should().OnlyContain(p => p.StartsWith("a.", StringComparison.Ordinal));
        using var actual = restored.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void Deleting_or_unloading_the_adapter_removes_its_record()
    {
        var model = BaseModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["value"] }, "other");
        model.AdapterConfigs().Keys.Should().Equal("default", "other");

        model.DeleteAdapter("default");
        model.AdapterConfigs().Keys.Should().Equal("other");
        FluentActions.Invoking(() => model.GetAdapterConfig("default")).Should().Throw<AdapterException>().WithMessage("*no layer carries adapter 'default'*");

        model.MergeAndUnload().AdapterConfigs().Should().BeEmpty();
    }

    [Fact]
    public void An_adapter_name_the_model_already_carries_is_refused_even_on_other_modules()
    {
        var model = BaseModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"] });

        FluentActions.Invoking(() => LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["value"] }))
            .Should().Throw<AdapterException>().WithMessage("*already carries adapter 'default'*DeleteAdapter*");
        model.modules().OfType<LoRALayer>().Should().HaveCount(2, "the refused injection changed nothing");
    }

    private sealed class TwoBerts : nn.Module<Tensor, Tensor>
    {
        private readonly ToyBert a = new(), b = new();

        public TwoBerts() : base(nameof(TwoBerts)) => RegisterComponents();

        public ToyBert A => a;

        public override Tensor forward(Tensor x) => a.call(x).add(b.call(x), RootedScalars.One); // an inline alpha may be finalised while libtorch reads it
    }
}
