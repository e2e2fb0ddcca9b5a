using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Settings;
using LRCMT.IO;
using LRCMT.Tests.Fuzz;
using Xunit;

namespace LRCMT.Tests.Cli.Fuzz;

/// <summary>
/// Hostile CLI settings files (<c>-c</c>) and run records (a run folder's <c>config.json</c>), from the fuzz suite's
/// field-level JSON generator and file kinds: each loads, or ends in the documented exit code of its kind (invalid
/// settings 6, a run record that does not read 7) within 10 s, allocating at most 64 MiB.
/// </summary>
public sealed class HostileRunSettingsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // A record as 'train' writes it: every section of the settings, resolved.
    private byte[] Seed()
    {
        string path = _temp.Combine("seed.json");
        RunSettingsFile.Save(RunSettingsFile.Load(null), path);
        return File.ReadAllBytes(path);
    }

    private static IEnumerable<HostileCase> Cases(byte[] seed, int salt)
    {
        var random = new Random(HostileHarness.Seed(salt));
        foreach (var kind in HostileFileKinds.All(InputFile.Limit(InputKind.RunSettings))) yield return kind;
        for (var i = 0; i < HostileHarness.Cases; i++)
        {
            var (bytes, how) = HostileJson.Generate(seed, random, "LrcmtRun", "ModelFolder", "Preset", "Threads");
            yield return new HostileCase(how, path => File.WriteAllBytes(path, bytes));
        }
    }

    [Fact]
    public void Settings_files_load_or_exit_with_the_configuration_error_code()
    {
        string folder = _temp.Combine("settings");
        Directory.CreateDirectory(folder);

        var (failures, refused, _) = HostileHarness.Run(folder, "settings.json", Cases(Seed(), 1), path => RunSettingsFile.Load(path),
            e => e is CliException { ExitCode: ExitCodes.ConfigurationError });

        string.Join(Environment.NewLine, failures).Should().BeEmpty();
        refused.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Run_records_load_or_exit_with_the_run_error_code()
    {
        string folder = _temp.Combine("records");
        Directory.CreateDirectory(folder);

        var (failures, refused, _) = HostileHarness.Run(folder, "config.json", Cases(Seed(), 2), path => RunSettingsFile.ReadResolved(path),
            e => e is CliException { ExitCode: ExitCodes.RunError });

        string.Join(Environment.NewLine, failures).Should().BeEmpty();
        refused.Should().BeGreaterThan(0);
    }
}
