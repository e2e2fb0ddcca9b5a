using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Formats.Safetensors;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static LRCMT.Tests.LowRank.PeftVerbs.PeftVerbSupport;

namespace LRCMT.Tests.LowRank.PeftVerbs;

/// <summary>
/// LoRA+ parameter groups (B at ratio × A's learning rate, embedding tables at their own): the groups drive the
/// library's optimizer and a user's own TorchSharp AdamW to the weights of Fixtures/peft/loraplus_reference.py.
/// </summary>
public sealed class LoraPlusTests
{
    private static readonly TrainerOptions Options = new() { AdapterLearningRate = 1e-2, LoraPlusRatio = 16, LoraPlusEmbeddingLearningRate = 1e-3, WeightDecay = 0.01 };

    /// <summary>ids → embed (trainable) → proj (LoRA).</summary>
    private sealed class EmbeddingModel : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding embed;
        private nn.Module<Tensor, Tensor> proj;

        public EmbeddingModel() : base(nameof(EmbeddingModel))
        {
            embed = nn.Embedding(5, 6);
            proj = nn.Linear(6, 4);
            RegisterComponents();
        }

        public Parameter EmbeddingWeight => embed.weight!;

        public override Tensor forward(Tensor ids) => proj.call(embed.call(ids));
    }

    private static (EmbeddingModel Model, Dictionary<string, Tensor> Reference) Prepare()
    {
        var reference = SafetensorsFile.Load(Fixtures.File("peft", "loraplus.safetensors"));
        var model = new EmbeddingModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["proj"] });
        model.EmbeddingWeight.requires_grad = true;
        using (no_grad())
            foreach (var (name, parameter) in model.named_parameters()) parameter.copy_(reference[name]);
        return (model, reference);
    }

    private static void Train(EmbeddingModel model, Dictionary<string, Tensor> reference, optim.Optimizer optimizer)
    {
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            using var scope = NewDisposeScope();
            using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
            var loss = model.call(reference["ids"]).sub(reference["target"]).pow(two).mean();
            loss.backward();
            optimizer.step();
        }
    }

    private static void ShouldMatchReference(EmbeddingModel model, Dictionary<string, Tensor> reference, string optimizer)
    {
        foreach (var (name, parameter) in model.named_parameters())
            MaxDiff(parameter, reference["final." + name]).Should().BeLessThanOrEqualTo(1e-5, $"{optimizer}: {name}");
    }

    [Fact]
    public void The_groups_give_B_ratio_times_As_rate_and_embeddings_their_own()
    {
        var (model, _) = Prepare();
        var nameOf = model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);

        var groups = new Trainer(Options).ParameterGroupsOf(model);

        groups.Select(g => (g.Group, g.LearningRate, Names: string.Join(",", g.Parameters.Select(p => nameOf[p.Handle])))).Should().Equal(
            (ParameterGroup.Adapter, 1e-2, "proj.lora_A.default.weight"),
            (ParameterGroup.AdapterB, 16 * 1e-2, "proj.lora_B.default.weight"),
            (ParameterGroup.Embedding, 1e-3, "embed.weight"));
        new Trainer(Options with { LoraPlusRatio = null, LoraPlusEmbeddingLearningRate = null }).ParameterGroupsOf(model)
            .Select(g => g.Group).Should().Equal([ParameterGroup.Adapter, ParameterGroup.Other], "without LoRA+ A and B share one rate");
    }

    [Fact]
    public void DoRA_magnitudes_train_with_B()
    {
        var model = new EmbeddingModel();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, UseDora = true, TargetModules = ["proj"] });
        var nameOf = model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);

        var groups = new Trainer(Options).ParameterGroupsOf(model);

        groups.Single(g => g.Group == ParameterGroup.AdapterB).Parameters.Select(p => nameOf[p.Handle])
            .Should().BeEquivalentTo("proj.lora_B.default.weight", "proj.lora_magnitude_vector.default.weight");
    }

    [Fact]
    public void A_users_own_TorchSharp_AdamW_with_the_groups_matches_the_reference()
    {
        var (model, reference) = Prepare();
        var groups = new Trainer(Options).ParameterGroupsOf(model);
        using var optimizer = optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr: g.LearningRate, weight_decay: 0.01)));

        Train(model, reference, optimizer);

        ShouldMatchReference(model, reference, "TorchSharp AdamW");
    }

    [Fact]
    public void The_trainers_optimizer_matches_the_reference()
    {
        var (model, reference) = Prepare();
        using var optimizer = ParameterGroups.Of(model, Options).CreateAdamW();

        Train(model, reference, optimizer);

        ShouldMatchReference(model, reference, "Trainer's AdamW");
    }

    [Fact]
    public void Bad_LoRA_plus_settings_are_listed()
    {
        FluentActions.Invoking(() => new Trainer(new TrainerOptions { LoraPlusRatio = 0 }))
            .Should().Throw<InvalidConfigurationException>().WithMessage("*LoraPlusRatio*");
        FluentActions.Invoking(() => new Trainer(new TrainerOptions { LoraPlusEmbeddingLearningRate = 1e-4 }))
            .Should().Throw<InvalidConfigurationException>().WithMessage("*LoraPlusEmbeddingLearningRate*LoraPlusRatio*");
    }
}
