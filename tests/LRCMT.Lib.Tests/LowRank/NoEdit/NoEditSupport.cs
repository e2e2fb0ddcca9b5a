using FluentAssertions;
using LRCMT.LowRank;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank.NoEdit;

/// <summary>Shared steps of the no-edit injection tests: identical twins, a plain AdamW loop, state comparisons.</summary>
internal static class NoEditSupport
{
    /// <summary>Two models from the same seed; the second gets the first's weights (same keys) to be sure.</summary>
    public static (T1 A, T2 B) Twins<T1, T2>(Func<T1> first, Func<T2> second, int seed = 5) where T1 : nn.Module where T2 : nn.Module
    {
        torch.manual_seed(seed);
        var a = first();
        torch.manual_seed(seed);
        var b = second();
        using (no_grad()) b.load_state_dict(a.state_dict());
        return (a, b);
    }

    /// <summary>Copies every adapter tensor of <paramref name="from"/> into <paramref name="to"/> by state-dict key.</summary>
    public static void CopyAdapters(nn.Module from, nn.Module to)
    {
        var target = to.state_dict();
        using var _ = no_grad();
        foreach (var (key, tensor) in from.state_dict().Where(kv => kv.Key.Contains(".lora_")))
        {
            target.Should().ContainKey(key);
            target[key].copy_(tensor);
        }
        LowRankInjector.RefreshAdapters(to);
    }

    /// <summary>An ordinary TorchSharp loop: AdamW over the trainable parameters, MSE to a fixed target; returns the losses.</summary>
    public static List<double> Train(nn.Module<Tensor, Tensor> model, Tensor x, Tensor target, int steps, bool viaForward = false)
    {
        model.train();
        var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 0.02);
        var losses = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            if (viaForward) LowRankInjector.RefreshAdapters(model);
            var output = viaForward ? model.forward(x) : model.call(x);
            var loss = nn.functional.mse_loss(output, target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        model.eval();
        return losses;
    }

    /// <summary>Clones of every state-dict tensor (a bit-exact snapshot).</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model)
        => model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    public static void ShouldEqualBitwise(this Dictionary<string, Tensor> actual, Dictionary<string, Tensor> expected)
    {
        actual.Keys.Should().Equal(expected.Keys);
        foreach (var (key, tensor) in expected)
            actual[key].equal(tensor).all().item<bool>().Should().BeTrue($"'{key}' must be unchanged");
    }

    public static double MaxDifference(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();
}
