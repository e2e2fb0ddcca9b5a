using FluentAssertions;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>Builds bert-base once (about 440 MB of random weights) for the parameter counts PEFT reports.</summary>
public sealed class BertBaseFixture : IDisposable
{
    public BertModel Model { get; } = new(BertConfig.Base());

    public void Dispose() => Model.Dispose();
}

public sealed class BertBaseParameterCountTests(BertBaseFixture bertBase) : IClassFixture<BertBaseFixture>
{
    [Fact]
    public void Bert_base_has_the_parameter_count_of_hugging_face_BertModel()
    {
        // transformers: BertModel(BertConfig()).num_parameters() == 109,482,240 (pooler included).
        bertBase.Model.parameters().Sum(p => p.numel()).Should().Be(109_482_240);
    }

    [Fact]
    public void Bert_base_has_one_query_and_one_value_projection_per_layer()
    {
        var names = bertBase.Model.named_modules().Select(m => m.name).ToList();

        names.Count(n => n.EndsWith(".query", StringComparison.Ordinal)).Should().Be(12);
        names.Count(n => n.EndsWith(".value", StringComparison.Ordinal)).Should().Be(12);
        names.Count(n => n.EndsWith(".dense", StringComparison.Ordinal)).Should().Be(12 * 3 + 1, "attention output, intermediate, output per layer, plus the pooler");
    }
}
