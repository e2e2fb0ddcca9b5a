using System.Text;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace LRCMT.Tests.Cli;

// The builder, JSON configuration (services.AddLrcmt) and the lrcmt tool all produce the library's one description.
public class OneDescriptionTests
{
    [Fact]
    public async Task The_same_configuration_from_the_builder_json_and_the_cli_saves_the_same_description()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("settings.json"), TrainAndEvalTests.TinySettings);
        string run = temp.Combine("run");
        var cli = await CliHarness.RunAsync("train", "-c", temp.Combine("settings.json"), "--encoder", Fixtures.TinyBertFolder,
            "--lora-rank", "4", "--base-dtype", "bf16", "--output", run);
        cli.ExitCode.Should().Be(ExitCodes.Success, cli.Error);

        // The benchmark's feature sizes are the library's defaults (5 acoustic, 20 visual), so neither needs to name them.
        string fromBuilder = temp.Combine("builder");
        using (var model = new LrcmtBuilder().WithPretrainedEncoder(Fixtures.TinyBertFolder).WithLoRA(l => l with { Rank = 4 })
                   .WithBaseDType(LRCMT.TextEncoders.BaseDType.BFloat16).Build())
            model.Save(fromBuilder);

        string json = $$"""
            { "Lrcmt": { "TextEncoder": { "PretrainedFolder": "{{Fixtures.TinyBertFolder.Replace("\\", "\\\\")}}", "BaseDType": "BFloat16" },
                         "LoRA": { "Rank": 4 } } }
            """;
        var section = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection(LrcmtOptions.SectionName);
        using var provider = new ServiceCollection().AddLrcmt(section).BuildServiceProvider();
        string fromJson = temp.Combine("json");
        using (var model = provider.GetRequiredService<LrcmtBuilder>().Build()) model.Save(fromJson);

        string manifest = Description(run, RunFiles.Model);
        Description(fromBuilder).Should().Be(manifest);
        Description(fromJson).Should().Be(manifest);
        var lora = PeftAdapterFile.ReadConfig(Path.Combine(run, RunFiles.Model, "adapter"));
        PeftAdapterFile.ReadConfig(Path.Combine(fromBuilder, "adapter")).Should().Be(lora);
        PeftAdapterFile.ReadConfig(Path.Combine(fromJson, "adapter")).Should().Be(lora);
    }

    // The manifest as written, less what records the weights (the trained run's differ from a new model's): the SHA-256
    // of each file and the manifest's seal over them.
    private static string Description(params string[] folder)
    {
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine([.. folder, "lrcmt_config.json"])))!.AsObject();
        manifest.Remove("files").Should().BeTrue("format 3 records the files' hashes");
        manifest.Remove("manifest_sha256").Should().BeTrue();
        return manifest.ToJsonString();
    }

    [Fact]
    public void The_tools_defaults_are_the_librarys()
    {
        var settings = RunSettingsFile.Load(null);

        settings.Model.Should().Be(new LrcmtOptions());
        settings.Training.Should().Be(new LRCMT.Training.TrainerOptions());
        settings.Data.Controlled.Should().BeEquivalentTo(new LRCMT.Data.Synthetic.ControlledBenchmarkOptions());
    }

    [Fact]
    public void The_paper_preset_starts_the_model_section_and_the_settings_file_applies_on_top()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.Combine("settings.json"), """{ "Model": { "Fusion": { "Layers": 2 }, "LoRA": { "TargetModules": [ "key" ] } } }""");

        var settings = RunSettingsFile.Load(temp.Combine("settings.json"), "paper");

        settings.Model.Should().Be(LrcmtPresets.Paper with
        {
            Fusion = LrcmtPresets.Paper.Fusion with { Layers = 2 },
            LoRA = LrcmtPresets.Paper.LoRA with { TargetModules = ["key"] },
        });
        LrcmtPresets.Paper.Fusion.Layers.Should().Be(5, "binding a file on top of a preset leaves the preset alone");
    }

    [Fact]
    public async Task The_preset_flag_is_offered_and_an_unknown_preset_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync("train", "--preset", "mult");

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain("--preset expects default or paper, got 'mult'");
    }
}
