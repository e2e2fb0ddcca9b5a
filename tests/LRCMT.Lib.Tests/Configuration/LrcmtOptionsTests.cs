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
            .And.Contain(f => f.StartsWith("VisualFeatures: "))
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

        model.Architecture.Should().BeEquivalentTo(new { AcousticFeatures = 74, VisualFeatures = 35, Classes = 7, Interaction = InteractionMode.TextToEachModality });
        provider.GetRequiredService<LrcmtBuilder>().Should().NotBeSameAs(builder, "a builder builds one model, so each request gets a new one");
    }

    [Fact]
    public void Defaults_pass_validation_once_an_encoder_source_is_set()
    {
        var options = new LrcmtOptions();
        options.TextEncoder.PretrainedFolder = Fixtures.TinyBertFolder;

        var result = new LrcmtOptionsValidator().Validate(null, options);

        result.Succeeded.Should().BeTrue(result.FailureMessage);
    }
}
