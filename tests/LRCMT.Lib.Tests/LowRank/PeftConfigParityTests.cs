using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

/// <summary>adapter_config.json as PEFT 0.21 writes and reads it.</summary>
public sealed class PeftConfigParityTests : IDisposable
{
    // PEFT 0.21's LoraConfig.to_dict() keys: PeftConfigMixin (task_type, peft_type, auto_mapping, peft_version),
    // PeftConfig (base_model_name_or_path, revision, inference_mode) and LoraConfig's fields without runtime_config,
    // as listed in huggingface/peft src/peft/config.py and src/peft/tuners/lora/config.py.
    private static readonly string[] PeftLoraFields =
    [
        "task_type", "peft_type", "auto_mapping", "peft_version", "base_model_name_or_path", "revision", "inference_mode",
        "r", "target_modules", "exclude_modules", "lora_alpha", "lora_dropout", "fan_in_fan_out", "bias", "use_rslora",
        "modules_to_save", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern",
        "megatron_config", "megatron_core", "trainable_token_indices", "loftq_config", "eva_config", "corda_config",
        "lora_ga_config", "use_dora", "velora_config", "alora_invocation_tokens", "use_qalora", "qalora_group_size",
        "monteclora_config", "layer_replication", "lora_bias", "target_parameters", "use_bdlora", "arrow_config",
        "kasa_config", "ensure_weight_tying",
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-peftcfg-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private JsonObject WrittenConfig() => JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)))!.AsObject();

    // PEFT's list rule, written out independently: equal to an entry, or ending with '.' + entry.
    private static IEnumerable<string> PeftSelects(IEnumerable<string> paths, IReadOnlyList<string> entries)
        => paths.Where(p => entries.Any(e => p == e || p.EndsWith("." + e, StringComparison.Ordinal)));

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    [Fact]
    public void Every_field_PEFT_writes_is_written_and_the_PEFT_written_fixture_has_the_same_set()
    {
        var model = new ToyBert();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        PeftAdapterFile.Save(model, _folder);

        PeftLoraFields.Should().HaveCount(41);
        WrittenConfig().Select(kv => kv.Key).Should().BeEquivalentTo(PeftLoraFields);
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.ConfigFileName)))!.AsObject();
        fixture.Select(kv => kv.Key).Should().BeEquivalentTo(PeftLoraFields, "the fixture was written by PEFT 0.21");
        WrittenConfig()["peft_version"]!.GetValue<string>().Should().Be(fixture["peft_version"]!.GetValue<string>());
        WrittenConfig().Select(kv => kv.Key).Should().BeInAscendingOrder(StringComparer.Ordinal, "save_pretrained sorts keys");
    }

    [Theory]
    [InlineData(LoRAInit.Default, "true")]
    [InlineData(LoRAInit.Gaussian, "\"gaussian\"")]
    [InlineData(LoRAInit.BothRandom, "false")]
    public void Init_lora_weights_records_the_initialisation_used(LoRAInit init, string json)
    {
        var model = new ToyBert();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = init, TargetModules = ["query"], TaskType = "SEQ_CLS" });
        PeftAdapterFile.Save(model, _folder, revision: "main");

        WrittenConfig()["init_lora_weights"]!.ToJsonString().Should().Be(json);
        WrittenConfig()["task_type"]!.GetValue<string>().Should().Be("SEQ_CLS");
        WrittenConfig()["revision"]!.GetValue<string>().Should().Be("main");
    }

    [Fact]
    public void A_BERT_loaded_from_a_folder_is_recorded_as_the_base_model()
    {
        using var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        PeftAdapterFile.Save(bert, _folder);

        WrittenConfig()["base_model_name_or_path"]!.GetValue<string>().Should().Be(Fixtures.TinyBertFolder);
        WrittenConfig()["auto_mapping"]!["base_model_class"]!.GetValue<string>().Should().Be("BertModel");
    }

    public static TheoryData<string[]> AmbiguousTargets => new()
    {
        new[] { "mlp.0", "mlp.2" },
        new[] { "layers.0.self_attn.out_proj" },
        new[] { "layers.1.mlp.2", "self_attn.out_proj" },
    };

    [Theory]
    [MemberData(nameof(AmbiguousTargets))]
    public void Saved_target_modules_select_exactly_the_adapted_modules_under_PEFTs_rule(string[] targets)
    {
        torch.manual_seed(2);
        var model = new Blocks();
        var paths = model.named_modules().Select(m => m.name).ToList();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = [.. targets] });
        var adapted = report.MatchedModules.ToList();
        using var x = randn(3, 8);
        using var expected = model.call(x);

        PeftAdapterFile.Save(model, _folder);

        var saved = WrittenConfig()["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        PeftSelects(paths, saved).Should().BeEquivalentTo(adapted);
        torch.manual_seed(2);
        var restored = new Blocks();
        var loaded = PeftAdapterFile.Load(restored, _folder);
        loaded.Injection!.MatchedModules.Should().BeEquivalentTo(adapted);
        using var actual = restored.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void Target_modules_are_written_as_configured_not_re_derived()
    {
        var model = new Blocks();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["mlp.2", "mlp.0"] });
        PeftAdapterFile.Save(model, _folder);

        // The shortest suffixes that select the same modules would be "2" and "mlp.0"; PEFT writes what was configured.
        WrittenConfig()["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("mlp.2", "mlp.0");
    }

    [Fact]
    public void Files_from_other_PEFT_versions_load_with_notes_and_PEFTs_defaults()
    {
        Directory.CreateDirectory(_folder);
        var model = new ToyBert();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 8, TargetModules = ["query"] });
        PeftAdapterFile.Save(model, _folder);
        var config = WrittenConfig();
        config.Remove("lora_alpha");
        config.Remove("kasa_config");
        config["some_future_field"] = 3;
        File.WriteAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName), config.ToJsonString());

        var report = PeftAdapterFile.Load(new ToyBert(), _folder);

        report.Config.Alpha.Should().Be(8, "PEFT's default lora_alpha");
        report.Notes.Should().Contain(n => n.Contains("some_future_field")).And.Contain(n => n.Contains("lora_alpha"));
    }

    [Fact]
    public void Settings_that_change_the_math_and_are_not_supported_are_refused()
    {
        Directory.CreateDirectory(_folder);
        var model = new ToyBert();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        PeftAdapterFile.Save(model, _folder);
        var config = WrittenConfig();
        config["use_qalora"] = true;
        config["layer_replication"] = new JsonArray(new JsonArray(0, 1));
        File.WriteAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName), config.ToJsonString());

        var act = () => PeftAdapterFile.ReadConfig(_folder);

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*use_qalora*").WithMessage("*layer_replication*");
    }

    /// <summary>Two blocks, each an attention out-projection and a Sequential MLP: numbered children repeat.</summary>
    private sealed class Blocks : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<Block> layers = new(new Block(), new Block());

        public Blocks() : base(nameof(Blocks)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            foreach (var block in layers) x = block.call(x);
            return x;
        }
    }

    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Attention self_attn = new();
        private readonly Sequential mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8));

        public Block() : base(nameof(Block)) => RegisterComponents();

        public override Tensor forward(Tensor x) => mlp.call(self_attn.call(x));
    }

    private sealed class Attention : nn.Module<Tensor, Tensor>
    {
        private nn.Module<Tensor, Tensor> out_proj = nn.Linear(8, 8);

        public Attention() : base(nameof(Attention)) => RegisterComponents();

        public override Tensor forward(Tensor x) => out_proj.call(x);
    }
}
