using FluentAssertions;
using LRCMT.LowRank;
using LRCMT.Tests.Models;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

public class ParameterGroupsTests
{
    /// <summary>
    /// A model in the style of a hand-written TorchSharp model: its encoder field is called <c>bert</c> (not
    /// <c>text_encoder</c>) and a plain head whose name contains <c>lora_</c> (<c>flora_head</c>) is not an adapter.
    /// </summary>
    private sealed class RenamedModel : nn.Module<Tensor, Tensor>
    {
        private readonly FakeTextEncoder bert;
        private readonly Linear flora_head;

        public RenamedModel() : base(nameof(RenamedModel))
        {
            bert = new FakeTextEncoder();
            flora_head = nn.Linear(12, 1);
            RegisterComponents();
        }

        public FakeTextEncoder Encoder => bert;

        public override Tensor forward(Tensor ids) => flora_head.call(bert.call(ids, ones_like(ids), null).LastHiddenState.mean([1]));
    }

    [Fact]
    public void Groups_come_from_the_models_structure_not_from_parameter_names()
    {
        manual_seed(50);
        using var model = new RenamedModel();
        LowRankInjector.Inject(model.Encoder, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        foreach (var p in model.Encoder.parameters().Where(p => !p.requires_grad).Take(1)) p.requires_grad = true; // one encoder weight fine-tuned
        var adapters = model.modules().OfType<LoRALayer>().SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();
        var encoder = model.Encoder.parameters().Select(p => p.Handle).ToHashSet();

        var groups = ParameterGroups.Of(model, new TrainerOptions { EncoderLearningRate = 1e-5 });

        var byGroup = groups.Trainable.Select((t, i) => (t.Name, t.Param, Group: groups.GroupOf[i])).ToList();
        byGroup.Where(t => t.Group == ParameterGroup.Adapter).Select(t => t.Param.Handle).Should().BeEquivalentTo(adapters);
        byGroup.Where(t => t.Group == ParameterGroup.Encoder).Should().ContainSingle()
            .Which.Param.Handle.Should().Match(h => encoder.Contains((IntPtr)h) && !adapters.Contains((IntPtr)h));
        byGroup.Where(t => t.Group == ParameterGroup.Other).Select(t => t.Name).Should().BeEquivalentTo("flora_head.weight", "flora_head.bias");
        groups.Rates(1.0).Should().BeEquivalentTo(new Dictionary<ParameterGroup, double>
        {
            [ParameterGroup.Adapter] = new TrainerOptions().AdapterLearningRate,
            [ParameterGroup.Encoder] = 1e-5,
            [ParameterGroup.Other] = new TrainerOptions().LearningRate,
        });
    }

    [Fact]
    public void Adapter_tensors_are_found_whatever_the_adapter_is_called()
    {
        manual_seed(51);
        using var named = new RenamedModel();
        using var renamed = new RenamedModel();
        LowRankInjector.Inject(named.Encoder, new LoRAConfig { Rank = 2, TargetModules = ["query"] });
        LowRankInjector.Inject(renamed.Encoder, new LoRAConfig { Rank = 2, TargetModules = ["query"] }, adapterName: "sentiment");

        var a = ParameterGroups.Of(named, new TrainerOptions());
        var b = ParameterGroups.Of(renamed, new TrainerOptions());

        a.GroupOf.Should().Equal(b.GroupOf);
        a.Trainable.Select(t => t.Param.shape).Should().BeEquivalentTo(b.Trainable.Select(t => t.Param.shape), o => o.WithStrictOrdering());
        b.GroupOf.Count(g => g == ParameterGroup.Adapter).Should().Be(2, "lora_A and lora_B of the one adapted projection");
    }
}
