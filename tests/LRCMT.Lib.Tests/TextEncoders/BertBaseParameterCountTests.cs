using FluentAssertions;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
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

    [Theory]
    [InlineData(8, new[] { "query", "value" }, 294_912)]
    [InlineData(16, new[] { "query", "value" }, 589_824)]
    [InlineData(8, new[] { "query", "key", "value", "dense" }, 1_339_392)]
    public void LoRA_at_bert_base_trains_as_many_parameters_as_peft_reports(int rank, string[] targets, long expectedTrainable)
    {
        // PEFT's print_trainable_parameters() on BertModel(BertConfig()) with LoraConfig(r, target_modules); "dense"
        // is a suffix match, so the pooler's dense is adapted too (12 x 3 + 1 modules).
        using var model = BuildBertBaseOnMetaDevice();

        LowRankInjector.Inject(model, new LoRAConfig { Rank = rank, Alpha = rank * 2, TargetModules = [.. targets] });

        var report = ParameterReport.Of(model);
        report.TrainableParameters.Should().Be(expectedTrainable);
        report.AllParameters.Should().Be(109_482_240 + expectedTrainable);
        model.named_parameters().Where(p => p.parameter.requires_grad).Should().OnlyContain(p => p.name.Contains("lora_"));
    }

    /// <summary>
    /// Counts depend on shapes only. Meta tensors have shapes but no storage, so bert-base builds in milliseconds here
    /// instead of allocating and initialising 440 MB per case (the class fixture does that once, on the CPU). The default
    /// device is process-wide; switching it is safe because test collections run one at a time (xunit.runner.json).
    /// </summary>
    private static BertModel BuildBertBaseOnMetaDevice()
    {
        torch.set_default_device(torch.META);
        try
        {
            return new BertModel(BertConfig.Base());
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
    }
}
