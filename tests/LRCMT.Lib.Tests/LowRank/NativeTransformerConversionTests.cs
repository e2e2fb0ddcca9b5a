using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

public class NativeTransformerConversionTests
{
    private const long Width = 16, Heads = 4, Seq = 5, Batch = 3;

    private static float MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();

    private static Tensor CausalBoolMask() => torch.ones(Seq, Seq, ScalarType.Bool).triu(1);

    // The native (libtorch C++) attention adds attn_mask to the scores whatever its dtype, so parity uses 0/-inf floats.
    private static Tensor CausalFloatMask() => torch.zeros(Seq, Seq).masked_fill(CausalBoolMask(), MinusInfinity);

    // Held for the process: a Scalar made inline may be finalised while libtorch reads it (RootedScalars).
    private static readonly Scalar MinusInfinity = float.NegativeInfinity;

    private static Tensor PaddingMask()
    {
        var mask = torch.zeros(Batch, Seq, ScalarType.Bool);
        mask[1, 3] = torch.tensor(true);
        mask[1, 4] = torch.tensor(true);
        mask[2, 4] = torch.tensor(true);
        return mask;
    }

    [Theory]
    [InlineData(nn.Activations.ReLU)]
    [InlineData(nn.Activations.GELU)]
    public void Converted_encoder_layer_matches_the_native_layer_with_and_without_masks(nn.Activations activation)
    {
        torch.manual_seed(5);
        var native = nn.TransformerEncoderLayer(Width, Heads, 32, 0.1, activation);
        native.eval();
        var managed = NativeTransformerConverter.ToManaged(native);
        managed.SelfAttention.NumHeads.Should().Be(Heads, "the head count is inferred from the native layer's behaviour");
        managed.Activation.Should().Be(activation);
        managed.named_parameters().Select(p => p.name).Should().BeEquivalentTo(native.named_parameters().Select(p => p.name));
        managed.eval();

        using var x = torch.randn(Seq, Batch, Width);
        using var causal = CausalFloatMask();
        using var additive = torch.randn(Seq, Seq);
        using var padding = PaddingMask();
        MaxDiff(managed.call(x), native.call(x)).Should().BeLessThanOrEqualTo(1e-5f);
        MaxDiff(managed.call(x, causal), native.call(x, causal)).Should().BeLessThanOrEqualTo(1e-5f);
        MaxDiff(managed.call(x, additive), native.call(x, additive)).Should().BeLessThanOrEqualTo(1e-5f);
        MaxDiff(managed.call(x, causal, padding), native.call(x, causal, padding)).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void Converted_multihead_attention_matches_native_outputs_and_weights()
    {
        torch.manual_seed(6);
        var native = nn.MultiheadAttention(Width, Heads);
        var managed = NativeTransformerConverter.ToManaged(native);
        managed.named_parameters().Select(p => p.name).Should().BeEquivalentTo(native.named_parameters().Select(p => p.name));

        using var q = torch.randn(4, Batch, Width);
        using var kv = torch.randn(Seq, Batch, Width);
        using var padding = PaddingMask();
        var (expected, expectedWeights) = native.call(q, kv, kv, padding, true, null);
        var (actual, actualWeights) = managed.call(q, kv, kv, padding, true, null);
        MaxDiff(actual, expected).Should().BeLessThanOrEqualTo(1e-5f);
        MaxDiff(actualWeights, expectedWeights).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void A_boolean_attention_mask_blocks_the_true_positions_like_PyTorch()
    {
        torch.manual_seed(4);
        var layer = new ManagedTransformerEncoderLayer(Width, Heads, 32, 0.0);
        layer.eval();
        using var x = torch.randn(Seq, Batch, Width);
        using var boolMask = CausalBoolMask();
        using var floatMask = CausalFloatMask();
        MaxDiff(layer.call(x, boolMask), layer.call(x, floatMask)).Should().Be(0f);
        var (_, weights) = layer.SelfAttention.call(x, x, x, null, true, boolMask);
        weights.masked_select(boolMask.unsqueeze(0).expand(Batch, Seq, Seq)).abs().max().item<float>().Should().Be(0f);
    }

    [Fact]
    public void Converted_encoder_stack_matches_the_native_encoder()
    {
        torch.manual_seed(7);
        var native = nn.TransformerEncoder(nn.TransformerEncoderLayer(Width, Heads, 32, 0.0, nn.Activations.GELU), 2);
        native.eval();
        var managed = NativeTransformerConverter.ToManaged(native, new NativeTransformerOptions(Heads, nn.Activations.GELU, 0.0));
        managed.Layers.Should().HaveCount(2);
        managed.named_parameters().Select(p => p.name).Should().BeEquivalentTo(native.named_parameters().Select(p => p.name));

        using var x = torch.randn(Seq, Batch, Width);
        using var padding = PaddingMask();
        MaxDiff(managed.call(x, null, padding), native.call(x, null!, padding)).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void Pre_norm_layer_equals_its_composition_from_native_attention_and_batch_first_is_a_transpose()
    {
        torch.manual_seed(8);
        var layer = new ManagedTransformerEncoderLayer(Width, Heads, 32, 0.0, nn.Activations.ReLU, normFirst: true);
        layer.eval();
        var attention = nn.MultiheadAttention(Width, Heads);
        var p = layer.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
            foreach (var (name, parameter) in attention.named_parameters()) parameter.copy_(p["self_attn." + name]);

        using var x = torch.randn(Seq, Batch, Width);
        using var causal = CausalFloatMask();
        Tensor Norm(Tensor t, string n) => nn.functional.layer_norm(t, [Width], p[n + ".weight"], p[n + ".bias"], 1e-5);
        using var n1 = Norm(x, "norm1");
        using var x1 = x.add(attention.call(n1, n1, n1, null, false, causal).Item1, RootedScalars.One);
        using var hidden = nn.functional.relu(nn.functional.linear(Norm(x1, "norm2"), p["linear1.weight"], p["linear1.bias"]));
        using var expected = x1.add(nn.functional.linear(hidden, p["linear2.weight"], p["linear2.bias"]), RootedScalars.One);
        MaxDiff(layer.call(x, causal), expected).Should().BeLessThanOrEqualTo(1e-5f);

        var batchFirst = new ManagedTransformerEncoderLayer(Width, Heads, 32, 0.0, nn.Activations.ReLU, normFirst: true, batchFirst: true);
        batchFirst.load_state_dict(layer.state_dict());
        batchFirst.eval();
        MaxDiff(batchFirst.call(x.transpose(0, 1), causal).transpose(0, 1), expected).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void Injector_converts_a_targeted_native_encoder_and_keeps_its_output_and_names()
    {
        torch.manual_seed(9);
        var model = new NativeEncoderModel(Width, Heads, 2);
        model.eval();
        var nativeNames = model.state_dict().Keys.ToList();
        using var x = torch.randn(Seq, Batch, Width);
        using var before = model.call(x);

        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["in_proj.q", "in_proj.v", "out_proj"] });

        report.ConvertedModules.Should().ContainSingle().Which.Should().StartWith("encoder (TransformerEncoder -> ManagedTransformerEncoder");
        report.MatchedModules.Should().BeEquivalentTo(
            "encoder.layers.0.self_attn.in_proj.q", "encoder.layers.0.self_attn.in_proj.v", "encoder.layers.0.self_attn.out_proj",
            "encoder.layers.1.self_attn.in_proj.q", "encoder.layers.1.self_attn.in_proj.v", "encoder.layers.1.self_attn.out_proj");
        model.Encoder.Should().BeOfType<ManagedTransformerEncoder>();
        var keys = model.state_dict().Keys.ToList();
        keys.Where(k => !k.Contains("lora_")).Should().BeEquivalentTo(nativeNames);
        keys.Should().Contain("encoder.layers.1.self_attn.in_proj.v.lora_A.default.weight");
        using var after = model.call(x);
        MaxDiff(after, before).Should().BeLessThanOrEqualTo(1e-5f);
    }

    [Fact]
    public void LoRA_on_the_q_slice_merges_into_the_q_rows_of_the_packed_projection_only()
    {
        torch.manual_seed(10);
        var attention = new ManagedMultiheadAttention(Width, Heads);
        attention.eval();
        LowRankInjector.Inject(new ModuleHolder(attention), new LoRAConfig { Rank = 2, TargetModules = ["in_proj.q"], Init = LoRAInit.BothRandom });
        var packed = attention.named_parameters().Single(p => p.name == "in_proj_weight").parameter;
        using var original = packed.detach().clone();
        using var x = torch.randn(Seq, Batch, Width);
        using var adapted = attention.call(x, x, x).Item1;

        var slice = attention.modules().OfType<LoRALayer>().Single();
        using var delta = slice.DeltaWeight("default");
        slice.Merge();
        MaxDiff(packed.narrow(0, 0, Width), original.narrow(0, 0, Width).add(delta, RootedScalars.One)).Should().BeLessThanOrEqualTo(1e-6f);
        packed.narrow(0, Width, 2 * Width).allclose(original.narrow(0, Width, 2 * Width), rtol: 0, atol: 0).Should().BeTrue();
        MaxDiff(attention.call(x, x, x).Item1, adapted).Should().BeLessThanOrEqualTo(1e-5f);
        slice.Unmerge();
        MaxDiff(packed, original).Should().BeLessThanOrEqualTo(1e-6f);
    }

    [Fact]
    public void A_native_encoder_held_in_a_sealed_typed_field_is_a_clear_error()
    {
        var model = new SealedNativeModel();
        FluentActions.Invoking(() => LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["out_proj"] }))
            .Should().Throw<AdapterException>().WithMessage("*encoder*declared as TransformerEncoder*");
    }

    [Fact]
    public void Masks_of_the_wrong_shape_are_shape_errors()
    {
        var layer = new ManagedTransformerEncoderLayer(Width, Heads, 32, 0.0);
        using var x = torch.randn(Seq, Batch, Width);
        using var mask = torch.zeros(Seq, Seq + 1);
        using var padding = torch.zeros(Batch + 1, Seq, ScalarType.Bool);
        layer.Invoking(l => l.call(x, mask)).Should().Throw<ShapeMismatchException>().WithMessage("attention mask*[5, 5] or [12, 5, 5]*[5, 6]*");
        layer.Invoking(l => l.call(x, null, padding)).Should().Throw<ShapeMismatchException>().WithMessage("key padding mask*[3, 5]*[4, 5]*");
        using var narrow = torch.randn(Seq, Batch, Width - 1);
        layer.Invoking(l => l.call(narrow)).Should().Throw<ShapeMismatchException>().WithMessage("*[seq, batch, 16]*");
    }

    private sealed class ModuleHolder : nn.Module<Tensor, Tensor>
    {
        private readonly ManagedMultiheadAttention attention;

        public ModuleHolder(ManagedMultiheadAttention attention) : base(nameof(ModuleHolder))
        {
            this.attention = attention;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => attention.call(x, x, x).Item1;
    }

    private sealed class SealedNativeModel : nn.Module<Tensor, Tensor>
    {
        private readonly TransformerEncoder encoder;

        public SealedNativeModel() : base(nameof(SealedNativeModel))
        {
            encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => encoder.call(x);
    }
}
