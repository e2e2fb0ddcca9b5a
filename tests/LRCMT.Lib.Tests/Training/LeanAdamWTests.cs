using FluentAssertions;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

public sealed class LeanAdamWTests
{
    private static Sequential Net()
    {
        manual_seed(21);
        return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2));
    }

    private static void Steps(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, int count)
    {
        manual_seed(22);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            net.call(randn(4, 6)).pow(2).mean().backward();
            optimizer.step();
        }
    }

    [Fact]
    public void Updates_match_torchsharps_adamw_with_weight_decay_over_several_steps()
    {
        using var lean = Net();
        using var reference = Net();
        using var leanOptimizer = new LeanAdamW([new AdamW.ParamGroup(lean.parameters(), lr: 0.01, weight_decay: 0.1)], 0.01, 0.1);
        using var referenceOptimizer = optim.AdamW([new AdamW.ParamGroup(reference.parameters(), lr: 0.01, weight_decay: 0.1)], 0.01, weight_decay: 0.1);

        Steps(lean, leanOptimizer, 4);
        Steps(reference, referenceOptimizer, 4);

        var expected = reference.parameters().ToList();
        var actual = lean.parameters().ToList();
        for (int i = 0; i < expected.Count; i++)
        {
            actual[i].allclose(expected[i], rtol: 1e-6, atol: 1e-7).Should().BeTrue($"parameter {i} follows the same update");
            using var moved = (actual[i] - Net().parameters().ElementAt(i)).abs().max();
            moved.item<float>().Should().BeGreaterThan(0);
        }
    }

    [Fact]
    public void Zero_grad_releases_the_gradient_buffers()
    {
        using var net = Net();
        using var optimizer = new LeanAdamW([new AdamW.ParamGroup(net.parameters(), lr: 0.01)], 0.01, 0);
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
        using var input = randn(4, 6) * 10;
        foreach (var module in new[] { net, twin }) module.call(input).pow(2).sum().backward();

        GradientClipping.ClipByGlobalNorm(net.parameters(), 0.5);
        nn.utils.clip_grad_norm_(twin.parameters(), 0.5);

        var expected = twin.parameters().Select(p => p.grad!).ToList();
        var actual = net.parameters().Select(p => p.grad!).ToList();
        for (int i = 0; i < expected.Count; i++) actual[i].allclose(expected[i], rtol: 1e-5, atol: 1e-7).Should().BeTrue();
        using var norm = stack(actual.Select(g => g.norm()).ToArray()).norm();
        norm.item<float>().Should().BeApproximately(0.5f, 1e-4f);
    }
}
