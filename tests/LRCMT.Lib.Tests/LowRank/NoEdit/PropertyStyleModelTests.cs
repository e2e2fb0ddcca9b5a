using LRCMT.Interop;
using FluentAssertions;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank.NoEdit;

// A model in yet another style: auto-properties of type Linear, registered by hand, a tied projection used twice,
// a ModuleList of blocks, root called with .forward().
internal sealed class PropertyBlock : nn.Module<Tensor, Tensor>
{
    public Linear Up { get; }
    public Linear Down { get; }
    public PropertyBlock(long w) : base("PropertyBlock")
    {
        Up = nn.Linear(w, 2 * w); Down = nn.Linear(2 * w, w);
        register_module("up", Up); register_module("down", Down);
    }
    // RootedScalars.One: the alpha that x + y would make inline may be finalised while libtorch reads it.
    public override Tensor forward(Tensor x) => x.add(Down.forward(nn.functional.gelu(Up.forward(x))), RootedScalars.One);
}
internal sealed class PropertyStyleModel : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<PropertyBlock> blocks = new();
    private readonly Linear head;
    public PropertyStyleModel(long w, int n) : base("PropertyStyleModel")
    {
        for (int i = 0; i < n; i++) blocks.Add(new PropertyBlock(w));
        head = nn.Linear(w, 1);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x)
    {
        foreach (var b in blocks) x = b.forward(x);
        return head.forward(x);
    }
}

public class PropertyStyleModelTests
{
    [Fact]
    public void Linear_auto_properties_in_a_module_list_called_by_forward_train_only_adapters()
    {
        torch.manual_seed(3);
        var model = new PropertyStyleModel(16, 2);
        var x = torch.randn(4, 5, 16);
        var before = model.forward(x).detach().clone();
        var keys = model.state_dict().Keys.ToList();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["up", "down"] });
        report.Adapted.Should().HaveCount(4);
        report.Adapted.Should().OnlyContain(a => a.Mechanism == AdaptationMechanism.Substitution);
        (model.forward(x) - before).abs().max().item<float>().Should().BeLessThan(1e-6f);
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        trainable.Should().HaveCount(8);
        var opt = torch.optim.AdamW(trainable, 1e-2);
        var baseW = model.state_dict()["blocks.0.up.weight"].clone();
        float first = 0, last = 0;
        for (int i = 0; i < 10; i++)
        {
            LowRankInjector.RefreshAdapters(model);
            opt.zero_grad();
            using Scalar two = 2;
            var loss = model.forward(x).pow(two).mean();
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
            loss.backward();
            opt.step();
        }
        last.Should().BeLessThan(first);
        bool same = model.state_dict()["blocks.0.up.weight"].sub(baseW).abs().max().item<float>() == 0; same.Should().BeTrue();
        model.state_dict().Keys.Should().Contain(keys);
    }

    [Fact]
    public void A_native_encoder_as_root_is_handed_back_adapted()
    {
        var enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, 0.0), 2);
        var report = LowRankInjector.Inject(enc, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["in_proj.q", "in_proj.v"] });
        report.Adapted.Select(a => a.Path).Should().Contain("layers.1.self_attn.in_proj.v");
        var adapted = (nn.Module<Tensor, Tensor>)report.Model;
        adapted.call(torch.randn(5, 2, 16)).shape.Should().Equal(5, 2, 16);
    }

    [Fact]
    public void Forgetting_the_refresh_of_a_forward_caller_is_refused_not_trained()
    {
        torch.manual_seed(3);
        var model = new PropertyStyleModel(16, 1);
        var x = torch.randn(4, 5, 16);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["up"], Init = LoRAInit.BothRandom });
        var opt = torch.optim.AdamW(model.parameters().Where(p => p.requires_grad), 1e-2);
        var loop = () =>
        {
            for (int i = 0; i < 3; i++)
            {
                opt.zero_grad();
                using Scalar two = 2;
                model.forward(x).pow(two).mean().backward();
                opt.step();
            }
        };
        // The second step's forward used the first refresh's weights: libtorch refuses the backward ...
        loop.Should().Throw<Exception>().WithMessage("*invalid gradient*");
        // ... and the next adapter call names the layer and the fix.
        var refresh = () => LowRankInjector.RefreshAdapters(model);
        refresh.Should().Throw<LRCMT.Errors.StaleAdapterWeightsException>().WithMessage("*blocks.0.up*RefreshAdapters*");
    }
}
