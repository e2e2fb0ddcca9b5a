using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary><c>predict</c> and <c>eval</c> refuse a run whose saved model was changed after <c>train</c> sealed it.</summary>
public class TamperedRunTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    public static TheoryData<string, string> Tamperings => new()
    {
        { "predict", "model.safetensors" },
        { "eval", "model.safetensors" },
        { "predict", "adapter/adapter_config.json" },
        { "eval", "lrcmt_config.json" },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task A_changed_file_of_the_saved_model_is_a_run_error_naming_it(string command, string file)
    {
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string copy = temp.Combine("run");
        CopyFolder(run, copy);
        string path = Path.Combine(copy, RunFiles.Model, file);
        Tamper(path);

        var result = await CliHarness.RunAsync(command, copy, "--data", "controlled");

        result.ExitCode.Should().Be(ExitCodes.RunError, result.Output + result.Error);
        result.Error.Should().Contain(Path.GetFileName(file));
        Directory.GetFiles(copy, "predictions-*.csv").Should().BeEmpty("nothing is predicted from a tampered model");
    }

    // Edits a user might make: a weight's last bit, the adapter's lora_alpha, the first number of the model's
    // description. Each file still parses; only the hashes the manifest records tell.
    private static void Tamper(string path)
    {
        if (path.EndsWith("adapter_config.json", StringComparison.Ordinal))
        {
            var adapter = JsonNode.Parse(File.ReadAllText(path))!;
            adapter["lora_alpha"] = adapter["lora_alpha"]!.GetValue<double>() * 2;
            File.WriteAllText(path, adapter.ToJsonString());
        }
        else if (path.EndsWith(".json", StringComparison.Ordinal))
        {
            var manifest = JsonNode.Parse(File.ReadAllText(path))!;
            var number = FirstNumber(manifest["options"]!) ?? throw new InvalidOperationException("the description holds no number");
            number.ReplaceWith(number.GetValue<double>() + 1);
            File.WriteAllText(path, manifest.ToJsonString());
        }
        else
        {
            var bytes = File.ReadAllBytes(path);
            bytes[^1] ^= 0x01;
            File.WriteAllBytes(path, bytes);
        }
    }

    private static JsonValue? FirstNumber(JsonNode node) => node switch
    {
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.Number => value,
        JsonObject o => o.Select(p => p.Value is null ? null : FirstNumber(p.Value)).FirstOrDefault(v => v is not null),
        JsonArray a => a.Select(v => v is null ? null : FirstNumber(v)).FirstOrDefault(v => v is not null),
        _ => null,
    };

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }
}
