using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Kernels;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Kernels;

/// <summary>
/// The library's AVX-512 projection (<see cref="Sgemm"/>) against a float64 reference at every kind of tile edge, and the
/// rule that routes projections to it (<see cref="CpuProjection"/>): only float32 CPU products whose weight does not train
/// (a frozen one's input gradient through <see cref="FrozenProjection"/>), hooks always run, the environment setting is
/// checked. The error bound is float32 summation's own: 4·k·2⁻²⁴ of the sum of
/// |x·w| per output, so a wrong index, a missed k, a lost bias or a partial tile copied to the wrong place fails by far.
/// </summary>
public sealed class CpuProjectionTests
{
    public static TheoryData<int, int, int, bool, int> Shapes() => new()
    {
        // rows around the 12-row tile, columns around the 32-column panel, k from none to several row blocks' worth
        { 1, 1, 1, true, 1 }, { 11, 31, 7, true, 1 }, { 12, 32, 16, false, 1 }, { 13, 33, 5, true, 1 },
        { 37, 100, 600, true, 1 }, { 350, 70, 600, false, 1 }, { 350, 70, 600, true, 3 }, { 25, 65, 0, true, 1 },
        { 100, 130, 96, true, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Product_matches_a_float64_reference_at_tile_edges(int rows, int n, int k, bool withBias, int threads)
    {
        Assert.SkipUnless(Sgemm.IsSupported, "this CPU has no AVX-512");
        manual_seed(rows * 1000 + n);
        var x = randn(rows, k);
        var w = randn(n, k);
        var b = withBias ? randn(n) : null;
        ExpectClose(Multiply(x, w, b, threads), x, w, b);
    }

    [Fact]
    public void Calls_at_the_same_time_each_get_their_own_product()
    {
        Assert.SkipUnless(Sgemm.IsSupported, "this CPU has no AVX-512");
        // The packed weight's memory is shared between calls; four threads with weights of different sizes must not mix.
        var cases = Enumerable.Range(0, 4).Select(i =>
        {
            manual_seed(i);
            return (X: randn(40 + i, 64 * (i + 1)), W: randn(48 * (i + 1), 64 * (i + 1)), B: randn(48 * (i + 1)));
        }).ToArray();
        var outputs = new Tensor[cases.Length * 5];
        Parallel.For(0, outputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, j =>
        {
            var (x, w, b) = cases[j % cases.Length];
            outputs[j] = Multiply(x, w, b, threads: 1);
        });
        for (int j = 0; j < outputs.Length; j++)
            ExpectClose(outputs[j], cases[j % cases.Length].X, cases[j % cases.Length].W, cases[j % cases.Length].B);
    }

    [Fact]
    public void The_input_gradient_product_matches_a_float64_reference()
    {
        Assert.SkipUnless(Sgemm.IsSupported, "this CPU has no AVX-512");
        manual_seed(8);
        var g = randn(50, 70); // [rows, out]
        var w = randn(70, 45); // [out, in]
        // g·W is the projection x·Wᵀ with Wᵀ as the weight.
        ExpectClose(CpuProjection.InputGradient(g, w), g, w.t().contiguous(), null);
    }

    [Fact]
    public void Linear_equals_libtorch_and_runs_managed_exactly_where_the_rule_says()
    {
        manual_seed(3);
        var x = randn(2, 20, 48);
        var w = randn(40, 48);
        var b = randn(40);
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor output;
        using (OneThread())
        using (no_grad()) output = CpuProjection.Linear(x, w, b);

        output.shape.Should().Equal(2, 20, 40);
        (CpuProjection.ManagedCallsOnThisThread - before).Should().Be(UsedOnOneThread ? 1 : 0);
        ExpectClose(output.reshape(40, 40), x.reshape(40, 48), w, b);
    }

    [Fact]
    public void A_transposed_input_is_read_as_its_values_not_its_memory()
    {
        manual_seed(4);
        var stored = randn(48, 30);
        var x = stored.t(); // [30, 48], not contiguous
        var w = randn(20, 48);
        Tensor output;
        using (no_grad()) output = CpuProjection.Linear(x, w, null);
        ExpectClose(output, x.contiguous(), w, null);
    }

    [Fact]
    public void A_frozen_projection_whose_input_records_gradients_returns_libtorchs_input_gradient()
    {
        manual_seed(5);
        var w = randn(24, 40);
        var b = randn(24);
        var x = randn(3, 30, 40).requires_grad_();
        var reference = x.detach().clone().requires_grad_();
        var mix = randn(24, 90); // the output is read transposed: the gradient that reaches the node is not contiguous
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor output;
        using (OneThread())
        {
            output = CpuProjection.Linear(x, w, b);
            output.reshape(90, 24).t().mul(mix).sum().backward();
        }
        long managed = CpuProjection.ManagedCallsOnThisThread - before;
        var expected = nn.functional.linear(reference, w, b);
        expected.reshape(90, 24).t().mul(mix).sum().backward();

        output.requires_grad.Should().BeTrue();
        managed.Should().Be(UsedOnOneThread ? 2 : 0, "forward and the input gradient");
        ExpectClose(output.detach().reshape(90, 24), x.detach().reshape(90, 40), w, b);
        x.grad!.allclose(reference.grad!, rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void A_projection_whose_weight_trains_stays_with_libtorch()
    {
        manual_seed(5);
        var x = randn(64, 16);
        var w = randn(8, 16).requires_grad_();
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor output;
        using (OneThread())
        {
            output = CpuProjection.Linear(x, w, null);
            output.sum().backward();
        }

        CpuProjection.ManagedCallsOnThisThread.Should().Be(before);
        // d(sum(x·wᵀ))/dw = the column sums of x for every row of w.
        w.grad!.allclose(x.sum(new long[] { 0 }).expand(8, 16), rtol: 1e-5, atol: 1e-4).Should().BeTrue();
    }

    [Fact]
    public void A_weight_narrowed_from_a_packed_one_is_read_from_its_own_offset()
    {
        // ManagedMultiheadAttention's q, k, v weights are row slices of one packed [3E, E] weight and bias.
        manual_seed(9);
        var packed = randn(72, 40);
        var packedBias = randn(72);
        var w = packed.narrow(0, 24, 24);
        var b = packedBias.narrow(0, 24, 24);
        var x = randn(64, 40);
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor output;
        using (OneThread())
        using (no_grad()) output = CpuProjection.Linear(x, w, b);

        (CpuProjection.ManagedCallsOnThisThread - before).Should().Be(UsedOnOneThread ? 1 : 0);
        ExpectClose(output, x, w.contiguous(), b.contiguous());
    }

    [Fact]
    public void A_lora_layer_trains_the_same_on_the_library_product_as_on_libtorchs()
    {
        // The frozen base of a LoRA layer goes through FrozenProjection on one thread and through libtorch on two: output,
        // input gradient and adapter gradients must agree.
        manual_seed(11);
        var layer = new LRCMT.LowRank.LoRALinear(nn.Linear(48, 40));
        layer.AddAdapter("default", new LRCMT.LowRank.LoRAConfig { Rank = 4, Alpha = 8, Init = LRCMT.LowRank.LoRAInit.BothRandom });
        var x = randn(2, 32, 48);
        var adapters = layer.parameters().Where(p => p.requires_grad).ToList();
        adapters.Should().HaveCount(2, "A and B train, the base is frozen");

        (Tensor Output, Tensor[] Gradients) Step()
        {
            foreach (var p in adapters) p.grad = null;
            var input = x.clone().requires_grad_();
            var output = layer.call(input);
            output.mul(output).sum().backward();
            return (output.detach(), [input.grad!, .. adapters.Select(p => p.grad!.clone())]);
        }

        var (reference, referenceGradients) = Step();
        long before = CpuProjection.ManagedCallsOnThisThread;
        (Tensor Output, Tensor[] Gradients) onOneThread;
        using (OneThread()) onOneThread = Step();

        (CpuProjection.ManagedCallsOnThisThread - before).Should().Be(
            UsedOnOneThread ? 2 : 0, "forward and the input gradient of the frozen base");
        onOneThread.Output.allclose(reference, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
        for (int i = 0; i < referenceGradients.Length; i++)
            onOneThread.Gradients[i].allclose(referenceGradients[i], rtol: 1e-4, atol: 1e-4).Should().BeTrue($"gradient {i}");
    }

    [Fact]
    public void Too_few_rows_stay_with_libtorch()
    {
        var x = randn(CpuProjection.MinimumRows - 1, 16);
        long before = CpuProjection.ManagedCallsOnThisThread;
        using (OneThread())
        using (no_grad()) _ = CpuProjection.Linear(x, randn(8, 16), null);
        CpuProjection.ManagedCallsOnThisThread.Should().Be(before);
    }

    [Fact]
    public void Call_runs_the_hooks_of_a_linear_that_has_them()
    {
        var linear = nn.Linear(16, 8);
        var x = randn(64, 16);
        Tensor plain, hooked;
        using (no_grad()) plain = linear.forward(x);
        using Scalar one = 1;
        linear.register_forward_hook((_, _, output) => output.add(one, one));
        long before = CpuProjection.ManagedCallsOnThisThread;
        using (OneThread())
        using (no_grad()) hooked = CpuProjection.Call(linear, x);

        CpuProjection.ManagedCallsOnThisThread.Should().Be(before, "a module with hooks is called, never bypassed");
        hooked.allclose(plain.add(one, one), rtol: 1e-5, atol: 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Call_computes_a_linear_without_hooks_as_the_linear_would()
    {
        var linear = nn.Linear(16, 8);
        var x = randn(64, 16);
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor output;
        using (OneThread())
        using (no_grad()) output = CpuProjection.Call(linear, x);

        (CpuProjection.ManagedCallsOnThisThread - before).Should().Be(UsedOnOneThread ? 1 : 0);
        ExpectClose(output, x, linear.weight.detach(), linear.bias!.detach());
    }

    [Fact]
    public void A_bert_forward_without_gradients_equals_the_one_that_records_them()
    {
        // Under no_grad the encoder's projections may run on the library's product; with gradients on they cannot (the
        // weights train), so the two forwards compare the two products through a whole model.
        var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        model.eval();
        manual_seed(6);
        var ids = randint(1, 120, [4, 16]);
        var mask = ones(4, 16, ScalarType.Int64);
        long before = CpuProjection.ManagedCallsOnThisThread;
        Tensor fast, recorded;
        long managed, beforeRecorded;
        using (OneThread())
        {
            using (no_grad()) fast = model.call(ids, mask, null).LastHiddenState;
            managed = CpuProjection.ManagedCallsOnThisThread - before;
            beforeRecorded = CpuProjection.ManagedCallsOnThisThread;
            recorded = model.call(ids, mask, null).LastHiddenState;
        }

        recorded.requires_grad.Should().BeTrue();
        CpuProjection.ManagedCallsOnThisThread.Should().Be(beforeRecorded, "the weights train: libtorch records them");
        if (UsedOnOneThread) managed.Should().BeGreaterThan(0);
        else managed.Should().Be(0);
        fast.allclose(recorded.detach(), rtol: 1e-4, atol: 1e-5).Should().BeTrue();
    }

    [Theory]
    [InlineData(null, true, false, CpuProjection.Use.OneThread)]
    [InlineData("", true, false, CpuProjection.Use.OneThread)]
    [InlineData("auto", true, true, CpuProjection.Use.Never)]
    [InlineData(" Managed ", true, true, CpuProjection.Use.Always)]
    [InlineData("managed", false, false, CpuProjection.Use.Never)]
    [InlineData("libtorch", true, false, CpuProjection.Use.Never)]
    internal void The_setting_and_the_cpu_decide(string? setting, bool avx512, bool intel, CpuProjection.Use expected)
        => CpuProjection.Decide(setting, avx512, intel).Should().Be(expected);

    [Fact]
    public void The_default_uses_the_library_product_only_while_libtorch_runs_on_one_thread()
    {
        Assert.SkipUnless(CpuProjection.Current == CpuProjection.Use.OneThread, "the product is not chosen by thread count here");
        int threads = get_num_threads();
        try
        {
            set_num_threads(2);
            CpuProjection.IsEnabled.Should().BeFalse();
            long before = CpuProjection.ManagedCallsOnThisThread;
            using (no_grad()) _ = CpuProjection.Linear(randn(64, 16), randn(8, 16), null);
            CpuProjection.ManagedCallsOnThisThread.Should().Be(before);
            set_num_threads(1);
            CpuProjection.IsEnabled.Should().BeTrue();
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void An_unknown_setting_is_refused_with_the_variable_and_the_words()
    {
        var refuse = () => CpuProjection.Decide("fast", avx512: true, intel: false);
        refuse.Should().Throw<InvalidConfigurationException>()
            .Which.Message.Should().Contain(CpuProjection.Variable).And.Contain("'fast'").And.Contain("'libtorch'");
    }

    // The product through pointers, into a NaN-filled output (a missed element stays NaN).
    private static unsafe Tensor Multiply(Tensor x, Tensor w, Tensor? b, int threads)
    {
        long rows = x.size(0);
        int n = (int)w.size(0), k = (int)w.size(1);
        using Scalar nan = float.NaN; // held: a Scalar made inline may be finalised while libtorch reads it
        var output = full(rows, n, nan);
        fixed (byte* px = x.bytes, pw = w.bytes, py = output.bytes)
        fixed (byte* pb = b is null ? default : b.bytes)
            Sgemm.MultiplyTransposed((float*)px, rows, (float*)pw, n, k, b is null ? null : (float*)pb, (float*)py, threads);
        return output;
    }

    // Whether the rule uses the library's product when libtorch runs on one thread (this CPU and setting).
    private static bool UsedOnOneThread => CpuProjection.Current != CpuProjection.Use.Never;

    // libtorch on one thread for the block (the default rule uses the library's product only then); restored on dispose.
    private static IDisposable OneThread()
    {
        int threads = get_num_threads();
        set_num_threads(1);
        return new Restore(() => set_num_threads(threads));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    private static void ExpectClose(Tensor actual, Tensor x, Tensor w, Tensor? b)
    {
        var x64 = x.to(ScalarType.Float64);
        var w64 = w.to(ScalarType.Float64);
        var reference = nn.functional.linear(x64, w64, b?.to(ScalarType.Float64));
        using Scalar tiny = 1e-30, one = 1;
        var magnitude = nn.functional.linear(x64.abs(), w64.abs(), b?.to(ScalarType.Float64).abs()).add(tiny, one);
        double allowed = 4.0 * Math.Max(1, x.size(-1) + 1) * Math.Pow(2, -24);
        var relative = actual.to(ScalarType.Float64).sub(reference).abs().div(magnitude);
        relative.isfinite().all().item<bool>().Should().BeTrue("every output is written");
        relative.max().item<double>().Should().BeLessThanOrEqualTo(allowed);
    }
}
