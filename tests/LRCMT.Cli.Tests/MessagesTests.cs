using System.Reflection;
using System.Text.RegularExpressions;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Settings;
using Xunit;

namespace LRCMT.Tests.Cli;

// What a person reads when something is wrong: every case fails while parsing or validating, before data or a model.
public class MessagesTests
{
    [Theory]
    [InlineData("--epochs", "many", "--epochs expects a whole number")]
    [InlineData("--seed", "1.5", "--seed expects a whole number")]
    [InlineData("--variant", "7", "--variant: must be one of Lrcmt, TextOnly")]
    [InlineData("--variant", "Bogus", "--variant: must be one of Lrcmt, TextOnly")]
    [InlineData("--dataset", "iemocap", "--dataset: must be one of Mosi, Mosei, Sims")]
    [InlineData("--device", "gpu", "--device expects cpu or cuda, got 'gpu'")]
    public async Task A_bad_flag_value_is_a_usage_error_in_the_users_terms(string flag, string value, string expected)
    {
        var result = await CliHarness.RunAsync("train", flag, value);

        result.ExitCode.Should().Be(ExitCodes.UsageError);
        result.Error.Should().Contain(expected).And.Contain($"'{value}'");
        result.Error.Should().NotContain("System.").And.NotContain("`1");
    }

    [Fact]
    public void A_misspelt_key_is_named_with_its_full_path_and_the_closest_key()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("appsettings.json");
        File.WriteAllText(path, """{ "LrcmtRun": { "Training": { "LearningRat": 0.01 }, "Data": { "Controlled": { "TrainCont": 5 } } } }""");

        var act = () => RunSettingsFile.Load(path);

        var error = act.Should().Throw<CliException>().Which;
        error.ExitCode.Should().Be(ExitCodes.ConfigurationError);
        error.Message.Should().Contain(path)
            .And.Contain("LrcmtRun:Training:LearningRat: no such setting; did you mean LrcmtRun:Training:LearningRate?")
            .And.Contain("LrcmtRun:Data:Controlled:TrainCont: no such setting; did you mean LrcmtRun:Data:Controlled:TrainCount?");
    }

    [Fact]
    public async Task Every_problem_of_a_settings_file_is_reported_at_once_and_an_enum_lists_its_values()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("settings.json");
        File.WriteAllText(path, """
            { "Training": { "Decay": "Cosin", "Epochs": 0, "LearningRat": 1, "Seed": "abc" },
              "Data": { "BatchSize": -1 }, "Model": { "Fusion": { "Heads": 7 } } }
            """);

        var result = await CliHarness.RunAsync("train", "--config", path, "--encoder", temp.Combine("no-encoder"), "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.ConfigurationError, result.Error);
        result.Error.Should().Contain(path)
            .And.Contain("Training.Decay: must be one of Linear, Cosine, Constant, got 'Cosin'")
            .And.Contain("Training.Epochs: must be from 1 to 100000, got 0")
            .And.Contain("Training:LearningRat: no such setting; did you mean Training:LearningRate?")
            .And.Contain("Training.Seed: must be a whole number, got 'abc'")
            .And.Contain("Data.BatchSize: must be from 1 to 65536, got -1")
            .And.Contain("Model.Fusion.Heads: must divide");
        result.Error.Should().NotContain("Failed to convert");
    }

    [Fact]
    public async Task A_file_written_for_the_librarys_Lrcmt_section_is_pointed_to_LrcmtRun()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("appsettings.json");
        File.WriteAllText(path, """{ "Lrcmt": { "LoRA": { "Rank": 4 } } }""");

        var result = await CliHarness.RunAsync("train", "--config", path, "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.ConfigurationError, result.Error);
        result.Error.Should().Contain("Lrcmt: no such setting").And.Contain("LrcmtRun:Model");
    }

    [Fact]
    public void Broken_json_is_reported_with_line_and_column()
    {
        using var temp = new TempFolder();
        string path = temp.Combine("settings.json");
        File.WriteAllText(path, "{\n  \"Training\": {\n    \"Epochs\": 3,,\n  }\n}\n");

        var act = () => RunSettingsFile.Load(path);

        act.Should().Throw<CliException>().Which.Message.Should().Contain("line 3, column 17");
    }

    [Theory]
    [InlineData("""{ "Training": { "LearningRate": "Infinity" } }""", "Training.LearningRate: must be a finite number ≥ 0, got Infinity")]
    [InlineData("""{ "Model": { "Interaction": { "Mode": "9" } } }""", "Model.Interaction.Mode: must be one of")]
    [InlineData("""{ "Model": { "Fusion": { "Width": 30, "Heads": 4 } } }""", "Model.Fusion.Heads: must divide Width (30), got 4")]
    public async Task Settings_that_cannot_work_are_refused_before_anything_loads(string json, string expected)
    {
        using var temp = new TempFolder();
        string path = temp.Combine("settings.json");
        File.WriteAllText(path, json);

        // The encoder folder does not exist: validation must fail first, with the settings problem.
        var result = await CliHarness.RunAsync("train", "--config", path, "--encoder", temp.Combine("no-encoder"), "--output", temp.Combine("run"));

        result.ExitCode.Should().Be(ExitCodes.ConfigurationError, result.Error);
        result.Error.Should().Contain(expected);
    }

    [Fact]
    public async Task Inspect_offers_only_the_flags_it_uses_and_ablate_takes_variants_with_the_same_flag_as_train()
    {
        var inspect = await CliHarness.RunAsync("inspect", "--help");
        var ablate = await CliHarness.RunAsync("ablate", "--help");
        var train = await CliHarness.RunAsync("train", "--help");

        inspect.Output.Should().Contain("--encoder").And.Contain("--variant").And.NotContain("--epochs").And.NotContain("--threads");
        ablate.Output.Should().Contain("--variant").And.NotContain("--variants");
        train.Output.Should().Contain("--variant").And.Contain("--resume").And.NotContain("--variants");
    }

    [Fact]
    public async Task Version_is_the_package_version_from_the_project_file()
    {
        string project = File.ReadAllText(RepositoryFiles.Path("src", "LRCMT.Cli", "LRCMT.Cli.csproj"));
        string version = Regex.Match(project, "<Version>([^<]+)</Version>").Groups[1].Value;

        var result = await CliHarness.RunAsync("--version");

        version.Should().NotBeEmpty();
        result.Output.Trim().Should().Be(version);
    }

    [Fact]
    public async Task Help_lists_every_exit_code()
    {
        var codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (int)f.GetValue(null)!).ToList();

        var result = await CliHarness.RunAsync("--help");

        codes.Should().HaveCountGreaterThan(5);
        string line = result.Output.Split('\n').Single(l => l.Contains("Exit codes:"));
        foreach (int code in codes) line.Should().MatchRegex($@"[:,] {code} [a-z]");
    }
}
