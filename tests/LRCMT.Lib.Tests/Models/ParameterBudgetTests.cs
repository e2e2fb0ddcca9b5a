using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.Models;

public class ParameterBudgetTests(ITestOutputHelper output)
{
    [Fact]
    public void The_papers_LRCMT_on_bert_base_with_MOSI_features_trains_between_half_and_one_percent()
    {
        // bert-base (random weights) with the paper's configuration: LoRA r=8 on query/value, width 50, 5 heads, 5 layers.
        using var model = LrcmtBuilder.FromOptions(LrcmtPresets.Paper).WithTextEncoder(new BertModel(BertConfig.Base())).Build();

        var report = model.GetParameterReport();
        output.WriteLine(report.ToString());

        // Closed forms, counted by hand from the architecture (not from the model):
        const long bertBase = 109_482_240;                 // HF bert-base-uncased BertModel, pooler included
        const long lora = 12 * 2 * (8 * 768 + 768 * 8);    // 12 layers × (query, value) × (A + B)
        const long d = 50, layers = 5;
        const long block = 4 * (d * d + d) + 3 * 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
        const long encoder = layers * block + 2 * d;       // + final LayerNorm
        const long projections = (768 + 5 + 20) * d;       // bias-free kernel-1 convolutions
        const long head = 2 * (d * d + d) + (d + 1);
        const long fusion = 3 * encoder + projections + head;

        report.AllParameters.Should().Be(bertBase + lora + fusion);
        report.TrainableParameters.Should().Be(lora + fusion);
        report.TrainablePercent.Should().BeInRange(0.5, 1.0);
    }
}
