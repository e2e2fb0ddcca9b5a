using FluentAssertions;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

/// <summary>Moving adapted models (dtype here; device in <see cref="LowRankCudaTests"/>) keeps names, freezing and results.</summary>
public class DeviceMoveTests
{
    [Fact]
    public void An_injected_model_converts_to_float64_with_names_freezing_and_outputs_kept()
    {
        torch.manual_seed(31);
        var model = new NativeEncoderModel(8, 2, 1);
        model.eval();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, UseDora = true, Init = LoRAInit.BothRandom, TargetModules = ["in_proj.v", "linear1"] },
            options: new InjectionOptions { Native = new NativeTransformerOptions(2, nn.Activations.ReLU, 0.0) });
        var names = model.named_parameters().Select(p => (p.name, p.parameter.requires_grad)).ToList();
        using var x = torch.randn(4, 2, 8);
        using var expected = model.call(x);

        model.to(ScalarType.Float64);

        model.named_parameters().Select(p => (p.name, p.parameter.requires_grad)).Should().Equal(names);
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
        using var actual = model.call(x.to(ScalarType.Float64));
        actual.to(ScalarType.Float32).allclose(expected, rtol: 1e-4, atol: 1e-5).Should().BeTrue();
        model.modules().OfType<LoRALayer>().First().Merge(); // merging works on the moved weights
    }
}
