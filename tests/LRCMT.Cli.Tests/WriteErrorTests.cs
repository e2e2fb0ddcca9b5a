using System.Diagnostics;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using LRCMT.Errors;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>A file that cannot be written ends the run with <see cref="ExitCodes.WriteError"/>, naming the file (and the folder a checkpoint was kept in).</summary>
public class WriteErrorTests(TinyRunFixture tiny) : IClassFixture<TinyRunFixture>
{
    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "lrcmt.dll");

    // The child's shell lowers RLIMIT_FSIZE to 64 KiB: the settings and metrics fit, the trainer's checkpoint does not.
    // Without the CLI's SIGXFSZ handling the kernel would kill the process (exit 153); without the mapping it would be
    // exit 1 with an ArgumentOutOfRangeException text.
    [Fact]
    public async Task A_file_past_ulimit_f_exits_10_naming_the_file_and_keeps_nothing_half_written()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(CliDll)) Assert.Skip("needs Linux and the built lrcmt.dll beside the tests");
        using var temp = new TempFolder();
        string settings = TrainAndEvalTests.WriteSettings(temp);
        string run = temp.Combine("run");
        string command = $"ulimit -f 64 && exec dotnet '{CliDll}' train -c '{settings}' --encoder '{Fixtures.TinyBertFolder}' --output '{run}' --threads 1";
        var (exitCode, log) = await RunLimitedAsync(command);

        exitCode.Should().Be(ExitCodes.WriteError, log);
        log.Should().Contain("error: ").And.Contain(temp.Path).And.Contain("ulimit -f");
        log.Should().NotContain("ArgumentOutOfRange").And.NotContain("   at ", "no stack dump for a user's limit");
        Directory.Exists(run).Should().BeFalse("nothing was committed");
        Directory.GetDirectories(temp.Path, ".*").Should().BeEmpty("no hidden staging folder is left");
        File.Exists(OutputLock.PathFor(run)).Should().BeFalse("the output's lock goes with the run");
    }

    [Fact]
    public async Task Predict_past_ulimit_f_exits_10_naming_the_csv_and_leaves_no_partial_file()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(CliDll)) Assert.Skip("needs Linux and the built lrcmt.dll beside the tests");
        string run = await tiny.RunAsync();
        using var temp = new TempFolder();
        string csv = temp.Combine("predictions.csv");

        var (exitCode, log) = await RunLimitedAsync($"ulimit -f 0 && exec dotnet '{CliDll}' predict '{run}' --output '{csv}'");

        exitCode.Should().Be(ExitCodes.WriteError, log);
        log.Should().Contain($"error: {csv}:").And.Contain("ulimit -f");
        Directory.GetFileSystemEntries(temp.Path).Should().BeEmpty("neither the CSV nor its partial file is left");
    }

    // Runs a bash command line (which lowers its own limits, then execs the CLI) and returns its exit code and output.
    private static async Task<(int ExitCode, string Log)> RunLimitedAsync(string command)
    {
        var token = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("/bin/bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The runtime's W^X double mapping sizes a memory file past so small a limit, and CoreCLR would not start.
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(token);
        var error = process.StandardError.ReadToEndAsync(token);
        using (var within = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            within.CancelAfter(TimeSpan.FromSeconds(120));
            try
            {
                await process.WaitForExitAsync(within.Token);
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
        }
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public void A_write_error_after_a_checkpoint_names_the_file_and_the_folder_the_run_was_kept_in()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        string failed = temp.Combine("run", "metrics.json");

        CliException? thrown = null;
        using (var folder = RunFolder.Create(target, force: false))
        {
            Directory.CreateDirectory(folder.File(RunFiles.TrainerCheckpoint));
            File.WriteAllText(Path.Combine(folder.File(RunFiles.TrainerCheckpoint), Training.Trainer.LastCheckpointName), "checkpoint");
            try
            {
                folder.CommitAfter<int>(() => throw new OutputFileException(failed, "no space left on the device."));
            }
            catch (CliException e)
            {
                thrown = e;
            }
        }

        thrown.Should().NotBeNull();
        thrown!.ExitCode.Should().Be(ExitCodes.WriteError);
        string kept = Directory.GetDirectories(temp.Path, "run.incomplete-*").Should().ContainSingle().Subject;
        thrown.Message.Should().Contain(failed).And.Contain("no space left").And.Contain(kept);
    }

    [Theory]
    [InlineData(28, "no space left")]
    [InlineData(122, "quota")]
    [InlineData(27, "file-size limit")]
    public void Failed_writes_reported_by_the_runtime_map_to_the_write_error_code(int errno, string words)
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("errno values are Unix's");

        var (code, message) = CliApp.Explain(new IOException("write failed", errno));

        code.Should().Be(ExitCodes.WriteError);
        message.Should().Contain(words);
    }

    [Fact]
    public void A_denied_permission_maps_to_the_write_error_code()
    {
        var (code, message) = CliApp.Explain(new UnauthorizedAccessException("Access to the path '/x/metrics.json' is denied."));

        code.Should().Be(ExitCodes.WriteError);
        message.Should().Contain("/x/metrics.json").And.Contain("permission");
    }

    [Fact]
    public void A_libtorch_error_is_told_by_its_first_line_without_the_native_trace()
    {
        var error = new System.Runtime.InteropServices.ExternalException(
            "Expected false to be true, but got false.\nException raised from toFloat at /pytorch/c10/core/Scalar.h:140 (most recent call first):\n" +
            "frame #0: c10::Error::Error(c10::SourceLocation) + 0xb0 (0x7f in libc10.so)\nframe #1: THSTensor_add + 0x62");

        var (code, message) = CliApp.Explain(error);

        code.Should().Be(ExitCodes.UnexpectedError);
        message.Should().StartWith("libtorch: Expected false to be true, but got false.").And.Contain("LRCMT_DEBUG=1")
            .And.NotContain("frame #").And.NotContain("Exception raised from");
    }
}
