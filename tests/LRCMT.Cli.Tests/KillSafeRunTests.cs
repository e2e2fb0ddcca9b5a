using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>
/// A real <c>lrcmt train</c> process killed with SIGKILL (no handler runs, nothing is committed or moved) at several
/// moments; <c>train --resume &lt;the --output name&gt;</c> must then find the run, continue it and finish it.
/// </summary>
public class KillSafeRunTests
{
    // Four epochs of 32 steps: each epoch takes long enough (a second or so) that the kill lands before the run ends.
    internal const string SlowEpochSettings = """
        { "Data": { "MaxTextTokens": 16, "BatchSize": 8,
                    "Controlled": { "TrainCount": 256, "ValidCount": 16, "TestCount": 16, "AcousticLength": 8, "VisualLength": 12 } },
          "Training": { "Epochs": 4 } }
        """;

    private const int Epochs = 4;
    private const int Sigkill = 9;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "lrcmt.dll");

    [Fact]
    public Task Killed_before_the_first_checkpoint_resumes_from_epoch_1() =>
        KillThenResume(staging => File.Exists(Path.Combine(staging, "config.json")) && !HasCheckpoint(staging), expectCheckpoint: false);

    [Fact]
    public Task Killed_mid_epoch_resumes_from_the_last_checkpoint() =>
        KillThenResume(HasCheckpoint, expectCheckpoint: true, delayAfter: TimeSpan.FromMilliseconds(300));

    [Fact]
    public Task Killed_during_a_checkpoint_write_resumes_from_the_previous_checkpoint() =>
        KillThenResume(staging => HasCheckpoint(staging) && CheckpointBeingWritten(staging), expectCheckpoint: true, duringWrite: true);

    /// <param name="when">Polled on the hidden staging folder; the process is killed as soon as it holds.</param>
    /// <param name="duringWrite">
    /// The kill is aimed at the window in which the trainer's temporary checkpoint file exists; that window lasts
    /// milliseconds, so when polling misses it the test kills after the next checkpoint and leaves a truncated temporary
    /// file beside it, which is exactly what a kill inside the write leaves (the writer renames only a complete file).
    /// </param>
    private static async Task KillThenResume(Func<string, bool> when, bool expectCheckpoint, TimeSpan? delayAfter = null, bool duringWrite = false)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(CliDll)) Assert.Skip("needs Linux and the built lrcmt.dll beside the tests");
        var token = TestContext.Current.CancellationToken;
        using var temp = new TempFolder();
        string settings = temp.Combine("settings.json");
        File.WriteAllText(settings, SlowEpochSettings);
        string run = temp.Combine("run");
        var start = new ProcessStartInfo("dotnet", [CliDll, "train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--output", run, "--threads", "1"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(token);
        var error = process.StandardError.ReadToEndAsync(token);
        string? staging = null;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            DateTime? firstCheckpoint = null;
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                staging = Directory.GetDirectories(temp.Path, ".run.partial-*").FirstOrDefault();
                if (staging is not null && when(staging)) break;
                if (duringWrite && staging is not null && HasCheckpoint(staging))
                {
                    // Missed the window: the checkpoint has been replaced since it was first seen.
                    var written = File.GetLastWriteTimeUtc(Path.Combine(staging, "checkpoint", Trainer.LastCheckpointName));
                    if (firstCheckpoint is null) firstCheckpoint = written;
                    else if (written != firstCheckpoint) break;
                }
                await Task.Delay(duringWrite ? 1 : 20, token);
            }
            if (delayAfter is { } delay) await Task.Delay(delay, token);
            process.HasExited.Should().BeFalse("the kill must land while the run is training");
            Kill(process.Id, Sigkill).Should().Be(0);
            await process.WaitForExitAsync(token);
        }
        finally
        {
            if (!process.HasExited) Kill(process.Id, Sigkill);
        }
        string log = await output + await error;
        process.ExitCode.Should().Be(128 + Sigkill, log);
        staging.Should().NotBeNull("the run wrote into a staging folder");
        Directory.Exists(run).Should().BeFalse("a killed run commits nothing");
        HasCheckpoint(staging!).Should().Be(expectCheckpoint);
        if (duringWrite && !CheckpointBeingWritten(staging!))
            File.WriteAllBytes(Path.Combine(staging!, "checkpoint", $".{Trainer.LastCheckpointName}.{Guid.NewGuid():N}.tmp"), new byte[100]);

        var resumed = await CliHarness.RunAsync("train", "--resume", run);

        resumed.ExitCode.Should().Be(ExitCodes.Success, resumed.Error + resumed.Output);
        resumed.Output.Should().Contain(staging!, "the console says where the killed run was found");
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))))
        {
            metrics.RootElement.GetProperty("status").GetString().Should().Be("completed");
            metrics.RootElement.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32())
                .Should().Equal(Enumerable.Range(1, Epochs));
        }
        if (expectCheckpoint) resumed.Output.Should().NotContain("epoch 1:", "epoch 1 was checkpointed before the kill");
        Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName)
            .Should().BeEquivalentTo(["settings.json", "run"], "no hidden or incomplete copy of the run is left beside it");
        Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        LRCMT.Cli.Settings.RunSettingsFile.Load(Path.Combine(run, "config.json")).Training.Epochs.Should().Be(Epochs);
    }

    private static bool HasCheckpoint(string staging) => File.Exists(Path.Combine(staging, "checkpoint", Trainer.LastCheckpointName));

    private static bool CheckpointBeingWritten(string staging) =>
        Directory.Exists(Path.Combine(staging, "checkpoint")) && Directory.GetFiles(Path.Combine(staging, "checkpoint"), ".*.tmp").Length > 0;
}
