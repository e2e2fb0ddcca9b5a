using System.Text;
using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Models;
using LRCMT.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace LRCMT.Tests.Configuration;

public class LrcmtOptionsTests
{
    private static IConfiguration Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    private static string ValidJson => $$"""
        {
          "Lrcmt": {
            "TextEncoder": { "PretrainedFolder": "{{Fixtures.TinyBertFolder.Replace("\\", "\\\\")}}", "Tuning": "Frozen" },
            "LoRA": { "Rank": 4, "TargetModules": [ "query", "key", "value" ] },
            "Modalities": { "AcousticFeatures": 74, "VisualFeatures": 35, "AcousticKernelSize": 3 },
            "Fusion": { "Width": 32, "Heads": 4, "Layers": 2 },
            "Interaction": { "Mode": "TextToEachModality", "TextAttendedByMemory": true },
            "Head": { "Kind": "Classification", "Classes": 7 }
          }
        }
        """;

    [Fact]
    public void Every_section_binds_from_json_including_enums_and_lists()
    {
        var services = new ServiceCollection().AddLrcmt(Json(ValidJson).GetSection(LrcmtOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<LrcmtOptions>>().Value;

        options.TextEncoder.Tuning.Should().Be(EncoderTuning.Frozen);
        options.LoRA.Rank.Should().Be(4);
        options.LoRA.TargetModules.Should().Equal("query", "key", "value");
        options.Modalities.Should().BeEquivalentTo(new { AcousticFeatures = 74, VisualFeatures = 35, AcousticKernelSize = 3 });
        options.Fusion.Should().BeEquivalentTo(new { Width = 32, Heads = 4, Layers = 2 });
        options.Interaction.Should().Be(new InteractionOptions { Mode = InteractionMode.TextToEachModality, TextAttendedByMemory = true });
        options.Head.Should().BeEquivalentTo(new { Kind = HeadKind.Classification, Classes = 7 });
    }

    [Fact]
    public void Start_up_validation_lists_annotation_and_cross_field_problems_together()
    {
        const string json = """
            { "Lrcmt": { "Fusion": { "Width": 30, "Heads": 4, "AttentionDropout": 1.5 }, "Modalities": { "VisualFeatures": 0 } } }
            """;
        var services = new ServiceCollection().AddLrcmt(Json(json).GetSection(LrcmtOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        var failures = act.Should().Throw<OptionsValidationException>().Which.Failures.ToList();
        failures.Should().Contain(f => f.StartsWith("Fusion.AttentionDropout: "))
            .And.Contain(f => f.StartsWith("Modalities.VisualFeatures: "))
            .And.Contain(f => f.StartsWith("Fusion.Heads: must divide"))
            .And.Contain(f => f.StartsWith("TextEncoder: no text encoder"));
    }

    [Fact]
    public void The_registered_builder_starts_from_the_bound_options_and_builds()
    {
        var services = new ServiceCollection().AddLrcmt(Json(ValidJson).GetSection(LrcmtOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var builder = provider.GetRequiredService<LrcmtBuilder>();
        using var model = builder.Build();

        model.Options.Modalities.Should().BeEquivalentTo(new { AcousticFeatures = 74, VisualFeatures = 35 });
        model.Options.Head.Classes.Should().Be(7);
        model.Options.Interaction.Mode.Should().Be(InteractionMode.TextToEachModality);
        provider.GetRequiredService<LrcmtBuilder>().Should().NotBeSameAs(builder, "a builder builds one model, so each request gets a new one");
    }

    [Fact]
    public void Defaults_pass_validation_once_an_encoder_source_is_set()
    {
        var options = new LrcmtOptions { TextEncoder = new TextEncoderOptions { PretrainedFolder = Fixtures.TinyBertFolder } };

        options.FindProblems().Should().BeEmpty();
        options.SourceProblems(encoderGivenInCode: false).Should().BeEmpty();
        new LrcmtOptions().SourceProblems(encoderGivenInCode: false).Should().ContainSingle().Which.Path.Should().Be("TextEncoder");
    }

    [Fact]
    public void A_value_the_binder_cannot_convert_is_a_typed_error_naming_the_key_and_the_value()
    {
        var act = () => LrcmtOptions.FromConfiguration(Json("""{ "Fusion": { "Heads": "abc" } }"""));

        act.Should().Throw<LRCMT.Errors.InvalidConfigurationException>().WithMessage("*'abc'*'Fusion:Heads'*Int32*");
    }

    [Fact]
    public void A_configured_list_replaces_the_default_list_instead_of_extending_it()
    {
        var options = LrcmtOptions.FromConfiguration(Json("""{ "LoRA": { "TargetModules": [ "key" ], "RankPattern": { "query": 4 } } }"""));

        options.LoRA.TargetModules.Should().Equal("key");
        options.LoRA.RankPattern.Should().Equal(new Dictionary<string, int> { ["query"] = 4 });
        options.LoRA.Rank.Should().Be(new LrcmtOptions().LoRA.Rank, "what the configuration does not name keeps its default");
    }

    [Fact]
    public void Configuration_overlays_a_preset_without_changing_the_preset()
    {
        var paper = LrcmtPresets.Paper with { };

        var options = LrcmtOptions.FromConfiguration(Json("""{ "Fusion": { "Layers": 2 }, "LoRA": { "TargetModules": [ "key" ] } }"""), LrcmtPresets.Paper);

        options.Fusion.Should().Be(LrcmtPresets.Paper.Fusion with { Layers = 2 });
        LrcmtPresets.Paper.Should().Be(paper);
        LrcmtPresets.Paper.Fusion.Layers.Should().Be(5);
        LrcmtPresets.Paper.LoRA.TargetModules.Should().Equal("query", "value");
    }

    [Fact]
    public void Options_described_in_code_are_registered_and_validated_like_bound_ones()
    {
        var services = new ServiceCollection().AddLrcmt(o => o with
        {
            TextEncoder = o.TextEncoder with { PretrainedFolder = Fixtures.TinyBertFolder },
            Fusion = o.Fusion with { Heads = 5 },
        });
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal("Fusion.Heads: must divide Width (32), got 5");
    }
}
