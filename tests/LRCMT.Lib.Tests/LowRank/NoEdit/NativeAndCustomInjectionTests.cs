using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.NoEdit.NoEditSupport;

namespace LRCMT.Tests.LowRank.NoEdit;

/// <summary>Native TorchSharp encoders (as the root, and in a sealed field) and custom linear-like module types.</summary>
public class NativeAndCustomInjectionTests
{
    static NativeAndCustomInjectionTests()
    {
        LinearLikeModules.Register<BufferWeightLinear>(new LinearLikeSpec("weight", "bias"));
        LinearLikeModules.Register<Conv1DStyle>(new LinearLikeSpec("weight", "bias", WeightIsInputByOutput: true));
    }

    private static readonly NativeTransformerOptions EncoderOptions = new(2, nn.Activations.ReLU, 0.0);

    [Fact]
    public void A_native_encoder_as_the_root_is_handed_back_adapted()
    {
        torch.manual_seed(12);
        var native = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2);
        native.eval();
        using var x = randn(5, 3, 8);
        using var expected = native.call(x);

        var report = LowRankInjector.Inject(native, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["in_proj.q", "in_proj.v", "linear1"] }, options: new InjectionOptions { Native = EncoderOptions });

        var model = report.Model.Should().BeOfType<ManagedTransformerEncoder>().Subject;
        report.ConvertedModules.Should().ContainSingle().Which.Should().StartWith("(root)");
        report.Adapted.Should().HaveCount(6).And.OnlyContain(a => a.InConvertedModule);
        model.eval();
        using (var actual = model.call(x)) MaxDifference(actual, expected).Should().BeLessThan(1e-5);
        model.state_dict().Keys.Where(k => !k.Contains(".lora_") && !k.Contains(".in_proj.")).Should().BeEquivalentTo(native.state_dict().Keys);
        model.parameters().Where(p => p.requires_grad).Should().NotBeEmpty().And.OnlyContain(p => p.shape.Contains(2L));
        using (var stillNative = native.call(x)) stillNative.equal(expected).all().item<bool>().Should().BeTrue("the native root is left to its owner");
    }

    [Fact]
    public void A_PEFT_adapter_loads_into_a_fresh_native_encoder_and_Load_returns_the_model_to_use()
    {
        torch.manual_seed(15);
        var trainedNative = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2);
        var freshNative = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2);
        using (no_grad()) freshNative.load_state_dict(trainedNative.state_dict());
        var options = new InjectionOptions { Native = EncoderOptions };
        var report = LowRankInjector.Inject(trainedNative, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["in_proj.q", "linear1"], Init = LoRAInit.BothRandom }, options: options);
        var trained = (nn.Module<Tensor, Tensor>)report.Model;
        trained.eval();
        using var x = randn(5, 3, 8);
        using var expected = trained.call(x);
        var folder = Path.Combine(Path.GetTempPath(), "lrcmt-native-load-" + Guid.NewGuid().ToString("N"));
        try
        {
            PeftAdapterFile.Save(trained, folder);

            var loaded = PeftAdapterFile.Load(freshNative, folder, options: options);

            var model = loaded.Model.Should().BeOfType<ManagedTransformerEncoder>().Subject;
            loaded.Injection!.ConvertedModules.Should().ContainSingle().Which.Should().StartWith("(root)");
            model.GetAdapterConfig().TargetModules.Should().Equal("in_proj.q", "linear1");
            model.eval();
            using var actual = model.call(x);
            MaxDifference(actual, expected).Should().BeLessThan(1e-5);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_native_encoder_in_a_sealed_field_is_refused_with_the_options_and_nothing_changes()
    {
        torch.manual_seed(13);
        var model = new SealedNativeEncoderModel();
        model.eval();
        using var x = randn(4, 2, 8);
        using var output = model.forward(x);
        var before = Snapshot(model);

        var act = () => LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["in_proj.q", "head"] }, options: new InjectionOptions { Native = EncoderOptions });

        act.Should().Throw<AdapterException>()
            .Where(e => e.ModulePath == "encoder" && e.Message.Contains("declared as TransformerEncoder") && e.Message.Contains("InjectionReport.Model")
                        && e.Message.Contains("Nothing was changed"));
        Snapshot(model).ShouldEqualBitwise(before);
        model.named_modules().Select(m => m.module).OfType<TransformerEncoder>().Should().ContainSingle("the native encoder was neither converted nor disposed");
        model.modules().OfType<LoRALayer>().Should().BeEmpty("the 'head' target planned before the failure got no adapter");
        using var after = model.forward(x);
        after.equal(output).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void The_error_for_unmatched_targets_lists_the_projections_of_native_modules()
    {
        var native = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 1);
        var act = () => LowRankInjector.Inject(native, new LoRAConfig { TargetModules = ["query", "value"] });
        act.Should().Throw<InvalidConfigurationException>().Where(e => e.Message.Contains("layers.0.self_attn.in_proj.q") && e.Message.Contains("layers.0.linear1"));
    }

    [Fact]
    public void Custom_linear_like_types_with_a_buffer_weight_and_the_Conv1D_layout_are_adapted_and_train()
    {
        torch.manual_seed(14);
        var model = new CustomLinearMlp();
        model.eval();
        using var x = randn(3, 4, 8);
        using var before = model.forward(x);
        var baseState = Snapshot(model);
        var allBefore = ParameterReport.Of(model).AllParameters + 16 * 8; // the buffer weight of 'up' counts as a frozen parameter

        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["up", "down"] });

        report.Adapted.Select(a => (a.Path, a.InFeatures, a.OutFeatures, a.Mechanism)).Should().Equal(
            ("up", 8L, 16L, AdaptationMechanism.Substitution), ("down", 16L, 8L, AdaptationMechanism.Substitution));
        report.Parameters.AllParameters.Should().Be(allBefore + 2 * (2 * 8 + 16 * 2));
        report.Parameters.TrainableParameters.Should().Be(2 * (2 * 8 + 16 * 2));
        using (var after = model.forward(x)) MaxDifference(after, before).Should().BeLessThan(1e-6);
        model.state_dict().Keys.Should().Contain("up.weight").And.Contain("down.lora_B.default.weight");
        model.named_buffers().Select(b => b.name).Should().Contain("up.weight", "the frozen weight stays a buffer");

        // Reference: the same maths by hand, y = tanh(x·(W1 + s·B1·A1)ᵀ + b1)·(W2 + s·A2ᵀ·B2ᵀ) + b2 with the trained adapters.
        using var y = randn(3, 4, 8);
        var losses = Train(model, x, y, 20);
        losses[^1].Should().BeLessThan(losses[0]);
        var state = model.state_dict();
        foreach (var (key, tensor) in baseState) state[key].equal(tensor).all().item<bool>().Should().BeTrue(key);
        using (no_grad())
        {
            using Scalar scaling = 2.0; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
            var w1 = state["up.weight"].add(state["up.lora_B.default.weight"].matmul(state["up.lora_A.default.weight"]).mul(scaling), RootedScalars.One);
            var w2 = state["down.weight"].add(state["down.lora_A.default.weight"].t().matmul(state["down.lora_B.default.weight"].t()).mul(scaling), RootedScalars.One);
            using var manual = x.matmul(w1.t()).add(state["up.bias"], RootedScalars.One).tanh().matmul(w2).add(state["down.bias"], RootedScalars.One);
            using var actual = model.forward(x);
            MaxDifference(actual, manual).Should().BeLessThan(1e-5);
        }
    }

    [Fact]
    public void A_registered_type_whose_forward_reads_no_field_is_refused()
    {
        LinearLikeModules.Register<PropertyReadingLinear>(new LinearLikeSpec());
        var model = nn.Sequential(("proj", new PropertyReadingLinear()));
        var act = () => LowRankInjector.Inject(model, new LoRAConfig { Rank = 1, TargetModules = ["proj"] });
        act.Should().Throw<AdapterException>().Where(e => e.ModulePath == "proj" && e.Message.Contains("no field"));
    }

    [Fact]
    public void Registering_an_invalid_spec_is_a_typed_error()
    {
        var act = () => LinearLikeModules.Register<Conv1DStyle>(new LinearLikeSpec("", "bias"));
        act.Should().Throw<InvalidConfigurationException>();
        var linear = () => LinearLikeModules.Register<Linear>(new LinearLikeSpec());
        linear.Should().Throw<InvalidConfigurationException>();
    }

    /// <summary>Reads its weight through the registration table at every forward, so no field holds it.</summary>
    private sealed class PropertyReadingLinear : nn.Module<Tensor, Tensor>
    {
        public PropertyReadingLinear() : base(nameof(PropertyReadingLinear)) => register_parameter("weight", new Parameter(randn(4, 4)));

        public override Tensor forward(Tensor x) => x.matmul(get_parameter("weight")!.t());
    }
}
