using System.Diagnostics;
using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using LRCMT.Tests.TestSupport;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>Two runs into one output folder: the second stops with <see cref="ExitCodes.OutputInUse"/> and writes nothing.</summary>
public class OutputLockTests
{
    [Fact]
    public async Task A_train_into_a_folder_another_run_holds_exits_9_and_writes_nothing()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        string settings = TrainAndEvalTests.WriteSettings(temp);

        string[] before;
        CliHarness.Result result;
        using (var first = RunFolder.Create(target, force: false))
        {
            before = Directory.GetFileSystemEntries(temp.Path);
            result = await CliHarness.RunAsync("train", "-c", settings, "--encoder", Fixtures.TinyBertFolder, "--output", target);
            Directory.GetFileSystemEntries(temp.Path).Should().BeEquivalentTo(before, "the refused run creates no staging folder");
        }

        result.ExitCode.Should().Be(ExitCodes.OutputInUse, result.Error);
        result.Error.Should().Contain(target).And.Contain($"process {Environment.ProcessId}", "the message names the holder");
    }

    [Fact]
    public void The_lock_is_released_with_the_run_folder()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");

        using (RunFolder.Create(target, force: false)) { }
        using (var second = RunFolder.Create(target, force: false))
            second.Commit();

        Directory.Exists(target).Should().BeTrue();
        File.Exists(OutputLock.PathFor(target)).Should().BeFalse("the lock file leaves with its holder");
    }

    [Fact]
    public void A_lock_held_by_another_process_refuses_the_folder()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/flock")) Assert.Skip("needs Linux and flock(1)");
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        string lockFile = OutputLock.PathFor(target);
        // flock(1) takes the same kernel lock a run takes and, without forking, becomes the sleep that holds it (killed
        // below; a forked sleep would keep the lock a moment after flock itself was gone).
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", ["--exclusive", "--no-fork", lockFile, "sleep", "60"]))!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.Exists(lockFile) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Thread.Sleep(200);

            var act = () => RunFolder.Create(target, force: false);

            act.Should().Throw<CliException>().Which.ExitCode.Should().Be(ExitCodes.OutputInUse);
            Directory.GetFileSystemEntries(temp.Path).Should().Equal(lockFile);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }

        using (var folder = RunFolder.Create(target, force: false))
            folder.Commit();
        Directory.Exists(target).Should().BeTrue("a lock whose holder died is free again");
    }
}
