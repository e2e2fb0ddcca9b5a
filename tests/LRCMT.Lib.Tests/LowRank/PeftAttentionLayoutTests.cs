using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.LowRank;

/// <summary>
/// PEFT's LoRA for multi-head attention: the attention module itself is the target. The reference comes from
/// Fixtures/torch/mha_reference.py (PyTorch 1.13's nn.TransformerEncoderLayer with PEFT's merge done by hand).
/// </summary>
public sealed class PeftAttentionLayoutTests : IDisposable
{
    private const long Width = 8, Heads = 2, Feedforward = 16;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrcmt-mha-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static string Mha(params string[] parts) => Fixtures.File(["torch", "mha", .. parts]);

    private static ManagedTransformerEncoderLayer PyTorchLayer()
    {
        var layer = new ManagedTransformerEncoderLayer(Width, Heads, Feedforward, dropout: 0.0);
        var weights = SafetensorsFile.Load(Mha("base.safetensors"));
        StateDictLoader.Load(layer, weights, "base.safetensors");
        foreach (var t in weights.Values) t.Dispose();
        layer.eval();
        return layer;
    }

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    [Fact]
    public void An_adapter_in_PEFTs_attention_layout_reproduces_the_reference_output()
    {
        var io = SafetensorsFile.Load(Mha("io.safetensors"));
        using var layer = PyTorchLayer();

        var report = PeftAdapterFile.Load(layer, Mha("adapter"));

        report.Injection!.MatchedModules.Should().Equal("self_attn");
        layer.state_dict().Keys.Where(k => k.Contains("lora_")).Should().BeEquivalentTo(
            "self_attn.in_proj.qkv.lora_A.default.weight", "self_attn.in_proj.qkv.lora_B.default.weight",
            "self_attn.out_proj.lora_A.default.weight", "self_attn.out_proj.lora_B.default.weight");
        using var output = layer.call(io["input"]);
        MaxDiff(output, io["output"]).Should().BeLessThanOrEqualTo(1e-5f);

        MergedModel.MergeAll(layer);
        using var merged = layer.call(io["input"]);
        MaxDiff(merged, io["output"]).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void Ours_trains_saves_PEFTs_keys_and_loads_back_with_identical_outputs()
    {
        using var layer = PyTorchLayer();
        LowRankInjector.Inject(layer, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["self_attn"] });
        layer.train();
        var trainable = layer.parameters().Where(p => p.requires_grad).ToList();
        trainable.Should().HaveCount(4);
        using (var optimizer = optim.SGD(trainable, 0.1))
        {
            for (int step = 0; step < 2; step++)
            {
                optimizer.zero_grad();
                using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
                using var loss = layer.call(randn(4, 2, Width)).pow(two).mean();
                loss.backward();
                optimizer.step();
            }
        }
        layer.eval();
        layer.named_parameters().Where(p => p.name.Contains("lora_B")).Should()
            .OnlyContain(p => p.parameter.abs().sum().item<float>() > 0, "B starts at zero; both B matrices must have trained");

        PeftAdapterFile.Save(layer, _folder);

        var keys = SafetensorsFile.Load(Path.Combine(_folder, PeftAdapterFile.WeightsFileName)).Keys;
        keys.Should().BeEquivalentTo(
            "base_model.model.self_attn.lora_A.weight", "base_model.model.self_attn.lora_B.weight",
            "base_model.model.self_attn.base_layer.out_proj.lora_A.weight", "base_model.model.self_attn.base_layer.out_proj.lora_B.weight");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)))!;
        config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("self_attn");
        config.AsObject().ContainsKey("lrcmt_layout").Should().BeFalse("this is PEFT's own layout");

        using var x = randn(5, 3, Width);
        using var expected = layer.call(x);
        using var restored = PyTorchLayer();
        var report = PeftAdapterFile.Load(restored, _folder);
        report.Notes.Should().BeEmpty();
        using var actual = restored.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void The_per_slice_extension_is_marked_in_the_file_and_in_the_load_report()
    {
        using var layer = PyTorchLayer();
        LowRankInjector.Inject(layer, new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["in_proj.q", "in_proj.v"] });
        using var x = randn(5, 2, Width);
        using var expected = layer.call(x);

        PeftAdapterFile.Save(layer, _folder);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, PeftAdapterFile.ConfigFileName)))!;
        config["lrcmt_layout"]!.GetValue<string>().Should().Be("in_proj_slices");

        using var restored = PyTorchLayer();
        var report = PeftAdapterFile.Load(restored, _folder);
        report.Notes.Should().ContainSingle(n => n.Contains("PEFT cannot read it"));
        using var actual = restored.call(x);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void A_native_encoder_layer_inside_a_model_is_converted_when_its_attention_is_the_target()
    {
        torch.manual_seed(3);
        var model = new NativeHolder();
        model.eval();
        using var x = randn(5, 2, Width);
        using var before = model.call(x);

        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["self_attn"] });

        report.ConvertedModules.Should().ContainSingle();
        report.MatchedModules.Should().Equal("layer.self_attn");
        using var after = model.call(x);
        MaxDiff(after, before).Should().BeLessThanOrEqualTo(1e-5f, "B starts at zero");
    }

    private sealed class NativeHolder : nn.Module<Tensor, Tensor>
    {
        private nn.IModule<Tensor, Tensor> layer;

        public NativeHolder() : base(nameof(NativeHolder))
        {
            layer = nn.TransformerEncoderLayer(Width, Heads, Feedforward, dropout: 0.0);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => layer.call(x);
    }
}
