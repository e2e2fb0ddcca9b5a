using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Cli;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>Divergence and SIGTERM through the real command line keep the last good checkpoint in a folder the CLI names.</summary>
public partial class KeptRunTests
{
    // One batch per epoch; warm-up makes step 0's rate 0, so epoch 0 ends with a good checkpoint and step 1's 1e30 rate
    // sends the weights to infinity, which the evaluation after epoch 1 reports as divergence.
    private const string DivergingSettings = """
        { "Data": { "MaxTextTokens": 16, "BatchSize": 8,
                    "Controlled": { "TrainCount": 8, "ValidCount": 8, "TestCount": 8, "AcousticLength": 8, "VisualLength": 8 } },
          "Training": { "Epochs": 3, "WarmupRatio": 0.5, "LearningRate": 1e30, "AdapterLearningRate": 1e30 } }
        """;

    [Fact]
    public async Task Divergence_exits_8_and_moves_the_last_good_checkpoint_to_the_folder_it_names()
    {
        using var temp = new TempFolder();
        string settings = temp.Combine("settings.json");
        File.WriteAllText(settings, DivergingSettings);
        string run = temp.Combine("run");

        var result = await CliHarness.RunAsync("train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--output", run);

        result.ExitCode.Should().Be(ExitCodes.TrainingDiverged, result.Error);
        string kept = Directory.GetDirectories(temp.Path, "run.incomplete-*").Should().ContainSingle().Subject;
        result.Error.Should().Contain(kept);
        var header = SafetensorsFile.ReadHeader(System.IO.Path.Combine(kept, "checkpoint", "last.safetensors"));
        header.Metadata["lrcmt.trainer"].Should().Contain("\"Epoch\":1,", "the checkpoint is the one written after epoch 0, before the divergence");
        Directory.Exists(run).Should().BeFalse();
        Directory.GetDirectories(temp.Path, ".*").Should().BeEmpty("no hidden staging folder is left");
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static string CliDll => System.IO.Path.Combine(AppContext.BaseDirectory, "lrcmt.dll");

    [Fact]
    public async Task Sigterm_stops_the_cli_process_after_a_step_keeps_the_checkpoint_and_exits_130()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(CliDll)) Assert.Skip("needs Linux and the built lrcmt.dll beside the tests");
        // Opt-in: started from a shell this passes in ~15 s (exit 130, folder committed), but a child of the test host did
        // not see the signal in this project's CI container (see docs/reliability.md), so CI does not run it by default.
        if (Environment.GetEnvironmentVariable("LRCMT_PROCESS_TESTS") != "1") Assert.Skip("set LRCMT_PROCESS_TESTS=1 to run the SIGTERM process test");
        using var temp = new TempFolder();
        string settings = temp.Combine("settings.json");
        File.WriteAllText(settings, TrainAndEvalTests.TinySettings.Replace("\"Epochs\": 2", "\"Epochs\": 200"));
        string run = temp.Combine("run");
        var start = new ProcessStartInfo("dotnet", [CliDll, "train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--output", run, "--threads", "1"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        // Wait until the first epoch's checkpoint exists in the staging folder, then ask politely.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline && !process.HasExited
               && !Directory.GetDirectories(temp.Path, ".run.partial-*").Any(s => File.Exists(System.IO.Path.Combine(s, "checkpoint", "last.safetensors"))))
            await Task.Delay(100, TestContext.Current.CancellationToken);
        process.HasExited.Should().BeFalse(await error);
        Kill(process.Id, Sigterm).Should().Be(0);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        process.ExitCode.Should().Be(ExitCodes.Interrupted, await error + await output);
        File.Exists(System.IO.Path.Combine(run, "checkpoint", "last.safetensors")).Should().BeTrue();
        using var metrics = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(run, "metrics.json")));
        metrics.RootElement.GetProperty("status").GetString().Should().Be("interrupted");
    }
}
