using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.LowRank;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

public class LoRALinearTests
{
    private const long In = 6, Out = 5;

    private static (LoRALinear layer, Tensor w, Tensor b) MakeLayer(LoRAConfig config, string adapter = "default")
    {
        torch.manual_seed(7);
        var linear = nn.Linear(In, Out);
        var w = linear.weight.detach().clone();
        var b = linear.bias!.detach().clone();
        var layer = new LoRALinear(linear);
        layer.AddAdapter(adapter, config);
        return (layer, w, b);
    }

    private static Tensor Param(nn.Module module, string name) => module.named_parameters().Single(p => p.name == name).parameter;

    [Theory]
    [InlineData(LoRAInit.Default)]
    [InlineData(LoRAInit.Gaussian)]
    public void Zero_initialised_adapter_leaves_the_output_equal_to_the_base_layer(LoRAInit init)
    {
        var (layer, w, b) = MakeLayer(new LoRAConfig { Rank = 2, Alpha = 4, Init = init, UseDora = init == LoRAInit.Gaussian });
        using var x = torch.randn(3, 4, In);
        using var expected = x.matmul(w.t()).add(b, RootedScalars.One); // RootedScalars: an inline alpha may be finalised while libtorch reads it
        using var actual = layer.call(x);
        actual.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();
        Param(layer, "lora_B.default.weight").abs().max().item<float>().Should().Be(0f);
    }

    [Fact]
    public void New_adapters_start_with_PEFTs_initial_distributions()
    {
        torch.manual_seed(3);
        var layer = new LoRALinear(nn.Linear(256, 256));
        layer.AddAdapter("default", new LoRAConfig { Rank = 64 });
        layer.AddAdapter("gaussian", new LoRAConfig { Rank = 64, Init = LoRAInit.Gaussian });
        var a = Param(layer, "lora_A.default.weight");
        // Kaiming-uniform with a = √5 on fan_in 256 is U(-1/16, 1/16): standard deviation (1/16)/√3.
        a.abs().max().item<float>().Should().BeLessThanOrEqualTo(1f / 16);
        a.std().item<float>().Should().BeApproximately((float)(1.0 / 16 / Math.Sqrt(3)), 0.002f);
        Param(layer, "lora_A.gaussian.weight").std().item<float>().Should().BeApproximately(1f / 64, 0.0005f);
        Param(layer, "lora_B.gaussian.weight").abs().max().item<float>().Should().Be(0f);
    }

    [Theory]
    [InlineData(false, 2.0)]   // alpha / r = 4 / 2
    [InlineData(true, 2.8284271247461903)] // alpha / sqrt(r) = 4 / sqrt(2)
    public void Adapter_output_is_the_base_plus_scaled_B_A_x(bool rsLora, double expectedScaling)
    {
        var (layer, w, b) = MakeLayer(new LoRAConfig { Rank = 2, Alpha = 4, UseRsLora = rsLora, Init = LoRAInit.BothRandom });
        layer.ScalingOf("default").Should().BeApproximately(expectedScaling, 1e-12);
        var a = Param(layer, "lora_A.default.weight");
        var bb = Param(layer, "lora_B.default.weight");
        a.shape.Should().Equal(2, In);
        bb.shape.Should().Equal(Out, 2);

        using var x = torch.randn(3, In);
        using Scalar scaling = expectedScaling;
        using var expected = x.matmul(w.t()).add(b, RootedScalars.One).add(x.matmul(a.t()).matmul(bb.t()).mul(scaling), RootedScalars.One);
        using var actual = layer.call(x);
        actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Parameters_keep_the_base_names_and_add_PEFT_adapter_names()
    {
        var (layer, _, _) = MakeLayer(new LoRAConfig { Rank = 2, UseDora = true });
        layer.named_parameters().Select(p => p.name).Should().BeEquivalentTo(
            "weight", "bias", "lora_A.default.weight", "lora_B.default.weight", "lora_magnitude_vector.default.weight");
        layer.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name)
            .Should().OnlyContain(n => n.Contains("lora_"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merge_gives_the_same_output_and_unmerge_restores_the_weight(bool dora)
    {
        var (layer, w, _) = MakeLayer(new LoRAConfig { Rank = 3, Alpha = 5, UseDora = dora, Init = LoRAInit.BothRandom });
        using Scalar magnitude = 1.7;
        if (dora) using (no_grad()) Param(layer, "lora_magnitude_vector.default.weight").mul_(magnitude);
        using var x = torch.randn(4, In);
        using var before = layer.call(x);

        layer.Merge();
        layer.MergedAdapter.Should().Be("default");
        using var merged = layer.call(x);
        merged.allclose(before, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        layer.Weight.allclose(w, rtol: 0, atol: 1e-3).Should().BeFalse("merging must change the stored weight");

        layer.Unmerge();
        layer.Weight.allclose(w, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
        using var after = layer.call(x);
        after.allclose(before, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Gradients_of_A_and_B_equal_the_closed_form_and_the_base_gets_none()
    {
        var (layer, _, _) = MakeLayer(new LoRAConfig { Rank = 2, Alpha = 3, Init = LoRAInit.BothRandom });
        using Scalar s = 1.5;
        var a = Param(layer, "lora_A.default.weight");
        var b = Param(layer, "lora_B.default.weight");
        using var x = torch.randn(2, 3, In);
        using var g = torch.randn(2, 3, Out);

        using var loss = layer.call(x).mul(g).sum();
        loss.backward();

        // L = Σ g ⊙ (… + s·x·Aᵀ·Bᵀ)  ⇒  dL/dB = s·gᵀ·(x·Aᵀ),  dL/dA = s·(g·B)ᵀ·x  (batch dims flattened).
        using var x2 = x.reshape(-1, In);
        using var g2 = g.reshape(-1, Out);
        using var expectedB = g2.t().matmul(x2.matmul(a.detach().t())).mul(s);
        using var expectedA = g2.matmul(b.detach()).t().matmul(x2).mul(s);
        b.grad!.allclose(expectedB, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        a.grad!.allclose(expectedA, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        layer.Weight.grad.Should().BeNull();
        layer.Bias!.grad.Should().BeNull();
    }

    [Fact]
    public void DoRA_forward_and_gradients_equal_the_closed_form_with_a_detached_norm()
    {
        var (layer, w, bias) = MakeLayer(new LoRAConfig { Rank = 2, Alpha = 3, UseDora = true, Init = LoRAInit.BothRandom });
        var a = Param(layer, "lora_A.default.weight");
        var b = Param(layer, "lora_B.default.weight");
        var m = Param(layer, "lora_magnitude_vector.default.weight");
        using Scalar s = 1.5;
        using (no_grad())
        {
            // PEFT starts m at the row norms of W + s·B·A.
            using var initialNorm = linalg.vector_norm(w.add(b.matmul(a).mul(s), RootedScalars.One), 2, new long[] { 1 });
            m.allclose(initialNorm, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
            m.mul_(torch.linspace(0.5, 1.5, Out));
        }

        // Independent copies: y = (m / ‖W + s·B·A‖.detach()) ⊙ ((W + s·B·A)·x) + bias.
        var a2 = a.detach().clone().requires_grad_(true);
        var b2 = b.detach().clone().requires_grad_(true);
        var m2 = m.detach().clone().requires_grad_(true);
        using var x = torch.randn(4, In);
        using var g = torch.randn(4, Out);
        using var adapted = w.add(b2.matmul(a2).mul(s), RootedScalars.One);
        using var norm = linalg.vector_norm(adapted, 2, new long[] { 1 }).detach();
        using var expected = x.matmul(adapted.t()).mul(m2.div(norm)).add(bias, RootedScalars.One);
        expected.mul(g).sum().backward();

        using var actual = layer.call(x);
        actual.allclose(expected, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        actual.mul(g).sum().backward();
        a.grad!.allclose(a2.grad!, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
        b.grad!.allclose(b2.grad!, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
        m.grad!.allclose(m2.grad!, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Dropout_acts_on_the_adapter_path_only()
    {
        var (layer, w, b) = MakeLayer(new LoRAConfig { Rank = 2, Dropout = 0.5 });
        layer.train();
        using var x = torch.randn(8, In);
        using var expected = x.matmul(w.t()).add(b, RootedScalars.One);
        // B is zero, so only a dropout on the base path could change the output.
        using var y = layer.call(x);
        y.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();

        using (no_grad()) Param(layer, "lora_B.default.weight").normal_();
        layer.eval();
        using var e1 = layer.call(x);
        using var e2 = layer.call(x);
        e1.allclose(e2, rtol: 0, atol: 0).Should().BeTrue("eval mode must not drop anything");
        layer.train();
        using var t1 = layer.call(x);
        t1.allclose(e1, rtol: 1e-4, atol: 1e-4).Should().BeFalse("training mode drops adapter inputs");
    }

    [Fact]
    public void Several_named_adapters_can_be_switched_and_all_disabled()
    {
        var (layer, w, b) = MakeLayer(new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom }, "first");
        layer.AddAdapter("second", new LoRAConfig { Rank = 3, Init = LoRAInit.BothRandom });
        layer.AdapterNames.Should().Equal("first", "second");
        layer.ActiveAdapter.Should().Be("first");
        using var x = torch.randn(2, In);
        using var baseOut = x.matmul(w.t()).add(b, RootedScalars.One);
        using var firstOut = layer.call(x);

        layer.SetActiveAdapter("second");
        using var secondDelta = layer.DeltaWeight("second");
        using var expectedSecond = baseOut.add(x.matmul(secondDelta.t()), RootedScalars.One);
        using var secondOut = layer.call(x);
        secondOut.allclose(expectedSecond, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
        secondOut.allclose(firstOut, rtol: 1e-3, atol: 1e-3).Should().BeFalse();

        layer.DisableAdapters();
        using var disabled = layer.call(x);
        disabled.allclose(baseOut, rtol: 0, atol: 1e-6).Should().BeTrue();
        layer.EnableAdapters();
        layer.Merge();
        layer.Invoking(l => l.SetActiveAdapter("first")).Should().Throw<AdapterException>().WithMessage("*Unmerge*");
        layer.DisableAdapters(); // unmerges
        layer.Weight.allclose(w, rtol: 1e-6, atol: 1e-6).Should().BeTrue();
    }

    [Theory]
    [InlineData(0, "*Rank: must be from 1 to 4096, got 0*")]
    [InlineData(6, "*Rank: must be at most min(in_features 6, out_features 5) = 5, got 6*")]
    public void Invalid_rank_is_a_configuration_error_naming_the_limit(int rank, string message)
    {
        var layer = new LoRALinear(nn.Linear(In, Out));
        layer.Invoking(l => l.AddAdapter("default", new LoRAConfig { Rank = rank }))
            .Should().Throw<InvalidConfigurationException>().WithMessage(message);
        layer.AdapterNames.Should().BeEmpty();
    }

    [Fact]
    public void Wrong_input_width_is_a_shape_error_naming_the_expected_width()
    {
        var (layer, _, _) = MakeLayer(new LoRAConfig { Rank = 2 });
        using var x = torch.randn(2, In + 1);
        var error = layer.Invoking(l => l.call(x)).Should().Throw<ShapeMismatchException>().Which;
        error.Expected.Should().Be("[..., 6]");
        error.Actual.Should().Equal(2, 7);
    }

    [Fact]
    public void Adding_the_same_adapter_twice_is_an_adapter_error()
    {
        var (layer, _, _) = MakeLayer(new LoRAConfig { Rank = 2 });
        layer.Invoking(l => l.AddAdapter("default", new LoRAConfig { Rank = 2 }))
            .Should().Throw<AdapterException>().WithMessage("*already has an adapter named 'default'*");
    }

    [Fact]
    public void Config_validation_lists_every_problem()
    {
        var config = new LoRAConfig { Rank = 0, Alpha = -1, Dropout = 1.5, TargetRegex = "(", RankPattern = new Dictionary<string, int> { ["query"] = 0 } };
        var error = config.Invoking(c => c.Validate()).Should().Throw<InvalidConfigurationException>().Which;
        error.Problems.Should().HaveCount(5);
        error.Problems.Select(p => p.Path).Should().BeEquivalentTo(["Rank", "Alpha", "Dropout", "TargetRegex", "RankPattern['query']"]);
        error.Problems.Should().Contain(p => p.Path == "TargetRegex" && p.Message.Contains("'('"));
    }
}
