using LRCMT.Interop;
using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank;

public sealed class PeftAdapterFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-lowrank-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static ToyBert BaseModel(long width = 8)
    {
        torch.manual_seed(21); // same seed → same base weights in every copy
        var model = new ToyBert(width);
        model.eval();
        return model;
    }

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adapters_survive_save_and_load_into_a_fresh_copy_of_the_base_model(bool dora)
    {
        var trained = BaseModel();
        LowRankInjector.Inject(trained, new LoRAConfig
        {
            Rank = 2, Alpha = 4, UseDora = dora, Init = LoRAInit.BothRandom, TargetModules = ["query", "value"],
            RankPattern = new Dictionary<string, int> { ["layer.1.attention.self.value"] = 3 }, ModulesToSave = ["classifier"],
        });
        using (no_grad()) trained.named_parameters().Single(p => p.name == "classifier.bias").parameter.add_(RootedScalars.One, RootedScalars.One); // an inline 1 may be finalised while libtorch reads it
        using var x = torch.randn(2, 3, 8);
        using var expected = trained.call(x);
        PeftAdapterFile.Save(trained, _folder, baseModelNameOrPath: "toy-bert");

        var keys = SafetensorsFile.Load(Path.Combine(_folder, PeftAdapterFile.WeightsFileName)).Keys.ToList();
        keys.Should().Contain("base_model.model.encoder.layer.0.attention.self.query.lora_A.weight")
            .And.Contain("base_model.model.encoder.layer.1.attention.self.value.lora_B.weight")
            .And.Contain("base_model.model.classifier.bias");
        keys.Count(k => k.EndsWith(".lora_magnitude_vector", StringComparison.Ordinal)).Should().Be(dora ? 4 : 0);
        keys.Should().OnlyContain(k => !k.Contains(".default."), "PEFT files carry no adapter name");

        var restored = BaseModel();
        var report = PeftAdapterFile.Load(restored, _folder);

        report.Injection!.Adapted.Should().HaveCount(4);
        report.Injection.Adapted.Single(a => a.Path == "encoder.layer.1.attention.self.value").Rank.Should().Be(3);
        report.Config.UseDora.Should().Be(dora);
        report.LoadedKeys.Should().HaveCount(keys.Count);
        using var actual = restored.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void Written_config_has_PEFTs_fields_and_only_fields_PEFT_knows()
    {
        var model = BaseModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query", "value"] });
        PeftAdapterFile.Save(model, _folder);

        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)))!.AsObject();
        var reference = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.ConfigFileName)))!.AsObject();
        written.Select(kv => kv.Key).Should().BeSubsetOf(reference.Select(kv => kv.Key));
        foreach (var key in new[] { "peft_type", "r", "lora_alpha", "lora_dropout", "bias", "use_rslora", "use_dora", "target_modules", "fan_in_fan_out" })
            written[key]!.ToJsonString().Should().Be(reference[key]!.ToJsonString(), key);
    }

    [Fact]
    public void The_PEFT_tiny_lora_fixture_loads_onto_modules_with_BERTs_paths()
    {
        var model = BaseModel(width: 64);
        var report = PeftAdapterFile.Load(model, Fixtures.TinyLoraFolder);

        report.Config.Rank.Should().Be(4);
        report.Config.Alpha.Should().Be(8);
        report.Injection!.MatchedModules.Should().Equal(
            "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
            "encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value");
        report.LoadedKeys.Should().HaveCount(8);
        var file = SafetensorsFile.Load(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.WeightsFileName));
        var loaded = model.named_parameters().Single(p => p.name == "encoder.layer.1.attention.self.value.lora_B.default.weight").parameter;
        MaxDiff(loaded, file["base_model.model.encoder.layer.1.attention.self.value.lora_B.weight"]).Should().Be(0f);
    }

    [Fact]
    public void A_shape_mismatched_adapter_file_is_rejected_with_every_bad_key_named()
    {
        var model = BaseModel(width: 8); // the fixture's adapters are for width 64
        var error = FluentActions.Invoking(() => PeftAdapterFile.Load(model, Fixtures.TinyLoraFolder))
            .Should().Throw<CheckpointMismatchException>().Which;
        error.ShapeMismatches.Should().HaveCount(8);
        error.ShapeMismatches.Should().Contain("encoder.layer.0.attention.self.query.lora_A.default.weight: expected [4, 8] but got [4, 64]");
    }

    [Fact]
    public void Missing_and_unexpected_adapter_keys_are_reported()
    {
        var source = BaseModel();
        LowRankInjector.Inject(source, new LoRAConfig { Rank = 2, TargetModules = ["query", "value"] });
        PeftAdapterFile.Save(source, _folder);
        // A damaged weights file: one adapter tensor lost, one under a name the model does not have.
        var weightsPath = Path.Combine(_folder, PeftAdapterFile.WeightsFileName);
        var tensors = SafetensorsFile.Load(weightsPath);
        tensors.Remove("base_model.model.encoder.layer.0.attention.self.value.lora_B.weight");
        tensors["base_model.model.encoder.layer.0.attention.self.vaule.lora_B.weight"] = torch.zeros(8, 2);
        SafetensorsFile.Save(weightsPath, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var error = FluentActions.Invoking(() => PeftAdapterFile.Load(BaseModel(), _folder))
            .Should().Throw<CheckpointMismatchException>().Which;
        error.MissingKeys.Should().Equal("encoder.layer.0.attention.self.value.lora_B.default.weight");
        error.UnexpectedKeys.Should().Equal("base_model.model.encoder.layer.0.attention.self.vaule.lora_B.weight");
    }

    [Fact]
    public void Merged_export_is_a_plain_checkpoint_with_the_original_names_that_reproduces_the_adapted_output()
    {
        var model = BaseModel();
        var baseKeys = model.state_dict().Keys.ToList();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["query", "dense"] });
        using var x = torch.randn(2, 3, 8);
        using var expected = model.call(x);
        var path = Path.Combine(_folder, "merged.safetensors");

        MergedModel.Export(model, path);

        model.modules().OfType<LoRALayer>().Should().OnlyContain(l => l.MergedAdapter == null, "export leaves the model unmerged");
        var merged = SafetensorsFile.Load(path);
        merged.Keys.Should().BeEquivalentTo(baseKeys);
        var plain = BaseModel();
        StateDictLoader.Load(plain, merged, path);
        using var actual = plain.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-5f);
    }
}
