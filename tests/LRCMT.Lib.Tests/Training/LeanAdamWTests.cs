using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

/// <summary>LeanAdamW against TorchSharp's own AdamW: same updates, same state, interchangeable state dicts.</summary>
public sealed class LeanAdamWTests
{
    private static Sequential Net()
    {
        manual_seed(21);
        return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2));
    }

    // Inputs shrink from step to step, so the second moment falls and AMSGrad's running maximum differs from it.
    private static void Steps(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, int count, int seed = 22)
    {
        manual_seed(seed);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using Scalar shrink = 3.0 / (i + 1), two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
            net.call(randn(4, 6) * shrink).pow(two).mean().backward();
            optimizer.step();
        }
    }

    private static void ShouldMatch(Sequential actual, Sequential expected, double tolerance = 1e-6)
    {
        var a = actual.parameters().ToList();
        var e = expected.parameters().ToList();
        using var initial = Net();
        var start = initial.parameters().ToList();
        for (int i = 0; i < e.Count; i++)
        {
            using var difference = (a[i] - e[i]).abs().max();
            difference.item<float>().Should().BeLessThanOrEqualTo((float)tolerance, $"parameter {i} follows TorchSharp's AdamW");
            using var moved = (a[i] - start[i]).abs().max();
            moved.item<float>().Should().BeGreaterThan(1e-3f, "the steps really changed the parameter");
        }
    }

    public static TheoryData<double, bool, bool> Settings => new()
    {
        { 0.0, false, false },
        { 0.1, false, false },
        { 0.1, true, false },
        { 0.05, false, true },
        { 0.05, true, true },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Twenty_steps_equal_torchsharps_adamw(double weightDecay, bool amsgrad, bool maximize)
    {
        using var lean = Net();
        using var reference = Net();
        using var leanOptimizer = new LeanAdamW(lean.parameters(), lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weight_decay: weightDecay, amsgrad: amsgrad, maximize: maximize);
        using var referenceOptimizer = optim.AdamW(reference.parameters(), 0.01, 0.8, 0.95, 1e-6, weightDecay, amsgrad, maximize);

        Steps(lean, leanOptimizer, 20);
        Steps(reference, referenceOptimizer, 20);

        ShouldMatch(lean, reference);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void A_large_parameter_updated_in_slices_gets_the_same_bits_as_one_updated_whole(bool amsgrad, bool maximize)
    {
        manual_seed(3);
        using var values = randn(700, 1000); // 700 000 elements: two full slices and a shorter last one
        using var sliced = new Parameter(values.clone());
        using var whole = new Parameter(values.t().contiguous().t()); // the same values, column-major: not contiguous, updated whole
        whole.is_contiguous().Should().BeFalse();
        sliced.numel().Should().BeGreaterThan(2 * LeanAdamW.SliceElements);
        using var slicedOptimizer = new LeanAdamW([sliced], lr: 0.01, beta2: 0.95, weight_decay: 0.1, amsgrad: amsgrad, maximize: maximize);
        using var wholeOptimizer = new LeanAdamW([whole], lr: 0.01, beta2: 0.95, weight_decay: 0.1, amsgrad: amsgrad, maximize: maximize);

        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            using Scalar shrink = 3.0 / (step + 1);
            var weights = randn(700, 1000) * shrink; // gradients that shrink, so AMSGrad's maximum matters
            foreach (var (parameter, optimizer) in new[] { (sliced, slicedOptimizer), (whole, wholeOptimizer) })
            {
                optimizer.zero_grad();
                (parameter * weights).sum().backward();
                optimizer.step();
            }
        }

        using var same = sliced.eq(whole).all();
        same.item<bool>().Should().BeTrue("the update is elementwise, so slices must not change a bit");
        using var lastElements = (sliced - values).view(-1).narrow(0, sliced.numel() - 1000, 1000).abs().mean();
        lastElements.item<float>().Should().BeGreaterThan(1e-3f, "the last slice was updated too");
    }

    [Fact]
    public void Parameter_groups_keep_their_own_settings_and_take_the_rest_from_the_defaults()
    {
        using var lean = Net();
        using var reference = Net();
        AdamW.ParamGroup[] Groups(Sequential net)
        {
            var p = net.parameters().ToList();
            return
            [
                new AdamW.ParamGroup(p.Take(2), lr: 0.02, weight_decay: 0.2, amsgrad: true),
                new AdamW.ParamGroup(p.Skip(2), new AdamW.Options { LearningRate = 0.005 }), // betas, eps, decay from the defaults
            ];
        }
        using var leanOptimizer = new LeanAdamW(Groups(lean), lr: 0.01, beta1: 0.85, weight_decay: 0.05);
        using var referenceOptimizer = optim.AdamW(Groups(reference), 0.01, beta1: 0.85, weight_decay: 0.05);

        Steps(lean, leanOptimizer, 20);
        Steps(reference, referenceOptimizer, 20);

        ShouldMatch(lean, reference);
    }

    [Fact]
    public void A_changed_group_learning_rate_applies_to_the_next_step()
    {
        using var lean = Net();
        using var reference = Net();
        using var leanOptimizer = new LeanAdamW(lean.parameters(), lr: 0.01);
        using var referenceOptimizer = optim.AdamW(reference.parameters(), 0.01);
        foreach (var optimizer in new optim.Optimizer[] { leanOptimizer, referenceOptimizer })
        {
            var net = ReferenceEquals(optimizer, leanOptimizer) ? lean : reference;
            Steps(net, optimizer, 5);
            foreach (var group in ((OptimizerHelper)optimizer).ParamGroups) group.LearningRate = 0.03;
            Steps(net, optimizer, 5, seed: 23);
        }

        ShouldMatch(lean, reference);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Saved_state_files_interchange_with_torchsharps_adamw(bool leanFirst)
    {
        // Train 10 steps with one optimizer, save its state to a file, load it into the other kind over the same weights, go on.
        var path = Path.Combine(Path.GetTempPath(), $"lean-adamw-{Guid.NewGuid():N}.bin");
        try
        {
            using var first = Net();
            using var second = Net();
            using var lean = new LeanAdamW((leanFirst ? first : second).parameters(), lr: 0.01, weight_decay: 0.1, amsgrad: true);
            using var stock = optim.AdamW((leanFirst ? second : first).parameters(), 0.01, weight_decay: 0.1, amsgrad: true);
            optim.Optimizer firstOptimizer = leanFirst ? lean : stock, secondOptimizer = leanFirst ? stock : lean;
            Steps(first, firstOptimizer, 10);
            if (leanFirst) lean.save_state_dict(path); else stock.save_state_dict(path);

            using (no_grad())
                foreach (var (target, source) in second.parameters().Zip(first.parameters())) target.copy_(source);
            if (leanFirst) stock.load_state_dict(path); else lean.load_state_dict(path);

            Steps(first, firstOptimizer, 10, seed: 24);
            Steps(second, secondOptimizer, 10, seed: 24);

            ShouldMatch(second, first);
            var states = ((OptimizerHelper)secondOptimizer).state_dict().State.Cast<AdamW.State>().ToList();
            states.Should().OnlyContain(s => s.step == 20, "the loaded step counts went on");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void In_memory_state_dicts_load_across_the_two()
    {
        using var lean = Net();
        using var stock = Net();
        using var leanOptimizer = new LeanAdamW(lean.parameters(), lr: 0.01);
        using var stockOptimizer = optim.AdamW(stock.parameters(), 0.01);
        Steps(stock, stockOptimizer, 5);
        using (no_grad())
            foreach (var (target, source) in lean.parameters().Zip(stock.parameters())) target.copy_(source);

        leanOptimizer.load_state_dict(stockOptimizer.state_dict());
        Steps(stock, stockOptimizer, 5, seed: 25);
        Steps(lean, leanOptimizer, 5, seed: 25);

        ShouldMatch(lean, stock);
    }

    [Fact]
    public void A_state_file_of_another_shape_is_a_typed_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lean-adamw-{Guid.NewGuid():N}.bin");
        try
        {
            using var small = nn.Linear(2, 2);
            using var smallOptimizer = new LeanAdamW(small.parameters());
            smallOptimizer.save_state_dict(path);
            using var net = Net();
            using var optimizer = new LeanAdamW(net.parameters());

            var act = () => optimizer.load_state_dict(path);

            act.Should().Throw<CorruptFileException>().WithMessage("*1 parameter groups with 2 parameters*1 with 4*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Invalid_settings_are_a_typed_error_listing_every_problem()
    {
        using var net = Net();
        var act = () => new LeanAdamW(net.parameters(), lr: -1, beta1: 1.0, eps: double.NaN, weight_decay: -0.1);

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().HaveCount(4)
            .And.Contain(p => p.Path == "lr").And.Contain(p => p.Path == "beta1")
            .And.Contain(p => p.Path == "eps").And.Contain(p => p.Path == "weight_decay");
        GC.Collect();
        GC.WaitForPendingFinalizers(); // the refused optimizer must not fail in its finalizer (that ends the process)
    }

    [Fact]
    public void An_invalid_group_setting_names_its_group()
    {
        using var net = Net();
        var act = () => new LeanAdamW([new AdamW.ParamGroup(net.parameters(), lr: 0.01, beta2: 1.5)]);

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*groups[0].beta2*1.5*");
    }

    [Fact]
    public void Null_parameters_are_an_argument_error()
    {
        var act = () => new LeanAdamW((IEnumerable<Parameter>)null!);
        act.Should().Throw<ArgumentNullException>().WithParameterName("parameters");
        var groups = () => new LeanAdamW((IEnumerable<AdamW.ParamGroup>)null!);
        groups.Should().Throw<ArgumentNullException>().WithParameterName("parameters");
        GC.Collect();
        GC.WaitForPendingFinalizers(); // the refused optimizers must not fail in their finalizers (that ends the process)
    }

    [Fact]
    public void Zero_grad_releases_the_gradient_buffers()
    {
        using var net = Net();
        using var optimizer = new LeanAdamW(net.parameters(), lr: 0.01);
        Steps(net, optimizer, 1);
        net.parameters().Should().OnlyContain(p => !ReferenceEquals(p.grad, null));

        optimizer.zero_grad();

        net.parameters().Should().OnlyContain(p => ReferenceEquals(p.grad, null));
    }

    [Fact]
    public void Sync_free_clipping_matches_libtorchs_clip_grad_norm()
    {
        using var net = Net();
        using var twin = Net();
        using Scalar ten = 10, two = 2;
        using var input = randn(4, 6) * ten;
        foreach (var module in new[] { net, twin }) module.call(input).pow(two).sum().backward();

        GradientClipping.ClipByGlobalNorm(net.parameters(), 0.5);
        nn.utils.clip_grad_norm_(twin.parameters(), 0.5);

        var expected = twin.parameters().Select(p => p.grad!).ToList();
        var actual = net.parameters().Select(p => p.grad!).ToList();
        for (int i = 0; i < expected.Count; i++) actual[i].allclose(expected[i], rtol: 1e-5, atol: 1e-7).Should().BeTrue();
        using var norm = stack(actual.Select(g => g.norm()).ToArray()).norm();
        norm.item<float>().Should().BeApproximately(0.5f, 1e-4f);
    }
}
