using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Models;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Configuration;

public class LrcmtBuilderTests
{
    private static LrcmtBuilder TinyBuilder() => new LrcmtBuilder()
        .WithModalities(ModelTestData.Acoustic, ModelTestData.Visual)
        .WithFusion(width: 8, heads: 2, layers: 1);

    [Fact]
    public void A_frozen_encoder_trains_nothing_while_fusion_and_head_train()
    {
        using var model = TinyBuilder().WithTextEncoder(new FakeTextEncoder()).WithEncoderTuning(EncoderTuning.Frozen).Build();

        var parameters = model.named_parameters().ToList();
        parameters.Where(p => p.name.StartsWith("text_encoder.")).Should().OnlyContain(p => !p.parameter.requires_grad);
        parameters.Where(p => !p.name.StartsWith("text_encoder.")).Should().OnlyContain(p => p.parameter.requires_grad);
    }

    [Fact]
    public void Full_fine_tuning_unfreezes_an_encoder_that_arrived_frozen()
    {
        var encoder = new FakeTextEncoder();
        foreach (var p in encoder.parameters()) p.requires_grad = false;

        using var model = TinyBuilder().WithTextEncoder(encoder).WithEncoderTuning(EncoderTuning.Full).Build();

        model.parameters().Should().OnlyContain(p => p.requires_grad);
    }

    [Fact]
    public void The_built_model_follows_the_chosen_head_and_interaction()
    {
        using var model = TinyBuilder().WithTextEncoder(new FakeTextEncoder()).WithEncoderTuning(EncoderTuning.Frozen)
            .WithClassificationHead(3).WithInteraction(InteractionMode.TextToEachModality, textAttendedByMemory: true).Build();
        using var batch = ModelTestData.Batch();

        using var logits = model.call(batch);

        logits.shape.Should().Equal(2, 3);
        model.named_parameters().Should().Contain(p => p.name.StartsWith("interaction.visual_from_text."));
    }

    [Fact]
    public void Build_reports_every_problem_at_once()
    {
        var builder = new LrcmtBuilder()
            .WithFusion(width: 50, heads: 7, layers: 0)
            .WithModalities(m => m with { VisualKernelSize = 2 })
            .WithClassificationHead(1)
            .WithInteraction(InteractionMode.TextOnly, textAttendedByMemory: true)
            .WithLoRA(lora => lora with { Rank = 0 });

        var act = () => builder.Build();

        var problems = act.Should().Throw<InvalidConfigurationException>().Which.Problems;
        problems.Should().HaveCount(7);
        problems.Select(p => p.Path).Should().BeEquivalentTo(
            ["Fusion.Layers", "Head.Classes", "Fusion.Heads", "Modalities.VisualKernelSize", "Interaction.TextAttendedByMemory", "TextEncoder", "LoRA.Rank"]);
        problems.Should().Contain(new SettingProblem("Fusion.Heads", "must divide Width (50), got 7"));
    }

    [Fact]
    public void A_builder_builds_one_model_only()
    {
        var builder = TinyBuilder().WithTextEncoder(new FakeTextEncoder()).WithEncoderTuning(EncoderTuning.Frozen);
        using var model = builder.Build();

        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>();
        builder.Invoking(b => b.WithFusion(8, 2, 2)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Starting_from_options_leaves_the_callers_options_untouched()
    {
        var options = new LrcmtOptions { LoRA = new LrcmtOptions().LoRA with { TargetModules = ["query"] } };

        var builder = LrcmtBuilder.FromOptions(options).WithFusion(16, 4, 2).WithLoRA(l => l with { TargetModules = [.. l.TargetModules, "key"] });

        options.Should().Be(new LrcmtOptions { LoRA = new LrcmtOptions().LoRA with { TargetModules = ["query"] } });
        builder.Options.LoRA.TargetModules.Should().Equal("query", "key");
        builder.Options.Fusion.Width.Should().Be(16);
    }

    [Fact]
    public void A_list_given_to_a_description_is_copied_so_changing_it_later_changes_nothing()
    {
        var targets = new List<string> { "query" };
        var lora = new LrcmtOptions().LoRA with { TargetModules = targets };

        targets.Add("key");

        lora.TargetModules.Should().Equal("query");
        lora.Should().Be(new LrcmtOptions().LoRA with { TargetModules = ["query"] }, "lists compare by content");
    }

    [Fact]
    public void A_lora_configuration_prints_its_lists_by_content()
    {
        var lora = new LrcmtOptions().LoRA with { RankPattern = new Dictionary<string, int> { ["value"] = 4 } };

        lora.ToString().Should().Contain("TargetModules = [query, value]").And.Contain("RankPattern = [value: 4]");
    }

    [Fact]
    public void An_encoder_given_in_code_keeps_the_source_the_description_names_as_its_record()
    {
        using var model = TinyBuilder().WithPretrainedEncoder(Fixtures.TinyBertFolder).WithEncoderTuning(EncoderTuning.Frozen)
            .WithTextEncoder(LRCMT.TextEncoders.BertModel.FromPretrained(Fixtures.TinyBertFolder)).Build();

        model.Options.TextEncoder.PretrainedFolder.Should().Be(Path.GetFullPath(Fixtures.TinyBertFolder));
    }

    [Fact]
    public void A_folder_and_an_onnx_file_at_once_are_a_configuration_problem()
    {
        var builder = TinyBuilder().WithTextEncoder(new FakeTextEncoder()).WithEncoderTuning(EncoderTuning.Frozen)
            .With(o => o with { TextEncoder = o.TextEncoder with { PretrainedFolder = Fixtures.TinyBertFolder, OnnxFile = "model.onnx" } });

        var act = () => builder.Build();

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Path.Should().Be("TextEncoder.OnnxFile");
    }

    [Fact]
    public void A_missing_pretrained_folder_is_reported_before_anything_loads()
    {
        var builder = TinyBuilder().WithPretrainedEncoder("/no/such/folder").WithEncoderTuning(EncoderTuning.Frozen);

        var act = () => builder.Build();

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle(p => p.Message.Contains("/no/such/folder"));
    }

    [Fact]
    public void The_hugging_face_tiny_bert_folder_builds_a_working_model()
    {
        manual_seed(30);
        using var model = TinyBuilder().WithPretrainedEncoder(Fixtures.TinyBertFolder).WithEncoderTuning(EncoderTuning.Frozen).Build();
        using var batch = ModelTestData.Batch();

        using var scores = model.call(batch);

        model.TextEncoder.HiddenSize.Should().Be(64);
        scores.shape.Should().Equal(2);
        scores.isfinite().all().item<bool>().Should().BeTrue();
    }
}
