using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Checkpoints;

public class StateDictLoaderTests
{
    private static nn.Module<Tensor, Tensor> TwoLayers() => nn.Sequential(("fc1", nn.Linear(4, 3)), ("fc2", nn.Linear(3, 2)));

    [Fact]
    public void Copies_values_from_a_matching_checkpoint()
    {
        using var source = TwoLayers();
        using var target = TwoLayers();
        var checkpoint = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

        var report = StateDictLoader.Load(target, checkpoint, "mem");

        report.LoadedKeys.Should().HaveCount(4);
        using var x = randn(5, 4);
        target.call(x).allclose(source.call(x)).Should().BeTrue();
    }

    [Fact]
    public void Lists_every_missing_unexpected_and_misshaped_key_and_copies_nothing()
    {
        using var target = TwoLayers();
        using var before = target.state_dict()["fc1.weight"].clone();
        var checkpoint = new Dictionary<string, Tensor>
        {
            ["fc1.weight"] = ones(3, 4),
            ["fc1.bias"] = ones(4),            // wrong shape: would broadcast in PyBridge
            ["fc2.weight"] = ones(2, 3),
            ["head.weight"] = ones(1),         // unexpected
        };                                     // fc2.bias missing

        var act = () => StateDictLoader.Load(target, checkpoint, "ckpt.safetensors");

        var error = act.Should().Throw<CheckpointMismatchException>().Which;
        error.MissingKeys.Should().Equal("fc2.bias");
        error.UnexpectedKeys.Should().Equal("head.weight");
        error.ShapeMismatches.Should().ContainSingle().Which.Should().Contain("fc1.bias").And.Contain("[3]").And.Contain("[4]");
        error.Message.Should().Contain("ckpt.safetensors");
        target.state_dict()["fc1.weight"].eq(before).all().item<bool>().Should().BeTrue("nothing is copied when a check fails");
    }

    [Fact]
    public void Tolerated_keys_are_reported_not_thrown()
    {
        using var target = TwoLayers();
        var checkpoint = target.state_dict().Where(kv => kv.Key != "fc2.bias").ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        checkpoint["cls.predictions.bias"] = zeros(7);

        var report = StateDictLoader.Load(target, checkpoint, "mem",
            new StateDictLoadOptions(k => k == "fc2.bias", k => k.StartsWith("cls.", StringComparison.Ordinal)));

        report.SkippedKeys.Should().Equal("cls.predictions.bias");
        report.NotLoadedKeys.Should().Equal("fc2.bias");
    }
}
