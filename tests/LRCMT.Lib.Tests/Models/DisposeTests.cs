using LRCMT.Configuration;
using FluentAssertions;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.LowRank;
using LRCMT.TextEncoders;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

/// <summary>Disposing a model frees the native memory of every tensor it registered (nothing left for the finaliser).</summary>
public class DisposeTests
{
    private static BertConfig TinyBert(bool roberta) => new()
    {
        VocabSize = 40, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 16,
        MaxPositionEmbeddings = 24, TypeVocabSize = roberta ? 1 : 2, PadTokenId = roberta ? 1 : 0,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disposing_an_adapted_LRCMT_model_frees_every_parameter_and_buffer(bool roberta)
    {
        TextEncoder encoder = roberta ? new RobertaModel(TinyBert(true)) : new BertModel(TinyBert(false));
        var model = LrcmtBuilder.FromOptions(ModelTestData.Options(reverse: true)).WithTextEncoder(encoder).Build();
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query", "value"], UseDora = true });
        var tensors = Registered(model);
        tensors.Should().Contain(t => t.Name.Contains("lora_A"), "the adapters are part of the model")
            .And.Contain(t => t.Name.StartsWith("text_encoder.embeddings."), "the encoder is a child of the model");

        model.Dispose();

        tensors.Where(t => !t.Tensor.IsInvalid).Select(t => t.Name).Should().BeEmpty("Dispose frees every registered tensor");
    }

    [Fact]
    public void Disposing_a_model_with_a_substituted_sealed_linear_frees_its_tensors()
    {
        var model = new SealedFieldModel();
        var report = LowRankInjector.Inject(model, new LoRAConfig { Rank = 2, TargetModules = ["proj"] });
        report.Adapted.Should().ContainSingle().Which.Mechanism.Should().Be(AdaptationMechanism.Substitution);
        using (no_grad()) model.call(randn(3, 4)).Dispose();
        var tensors = Registered(model);
        tensors.Select(t => t.Name).Should().Contain(["proj.weight", "proj.bias", "proj.lora_A.default.weight"]);
        // The adapted weight W0 + s·B·A that the sealed Linear's forward reads is registered nowhere: the layer owns it.
        var linear = (Linear)typeof(SealedFieldModel).GetField("proj", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(model)!;
        var adapted = linear.weight!;
        tensors.Should().NotContain(t => ReferenceEquals(t.Tensor, adapted), "the adapted weight is not a registered tensor");
        tensors.Add(("proj (adapted weight read by forward)", adapted));

        model.Dispose();

        tensors.Where(t => !t.Tensor.IsInvalid).Select(t => t.Name).Should().BeEmpty("Dispose frees every registered tensor");
    }

    private static List<(string Name, Tensor Tensor)> Registered(nn.Module model)
        => model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(model.named_buffers(include_nonpersistent: true))
            .ToList();
}
