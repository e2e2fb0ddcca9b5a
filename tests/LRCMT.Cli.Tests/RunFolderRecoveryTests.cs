using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using Xunit;

namespace LRCMT.Tests.Cli;

/// <summary>Nothing kept is deleted: uncommitted runs with a checkpoint are moved to a visible folder, stale staging is recovered.</summary>
public class RunFolderRecoveryTests
{
    private static void WriteCheckpoint(string folder)
    {
        Directory.CreateDirectory(System.IO.Path.Combine(folder, "checkpoint"));
        File.WriteAllText(System.IO.Path.Combine(folder, "checkpoint", "last.safetensors"), "weights");
    }

    [Fact]
    public void A_failure_after_a_checkpoint_moves_the_run_to_a_visible_folder_the_error_names()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        using var folder = RunFolder.Create(target, force: false);

        var act = () => folder.CommitAfter<int>(() =>
        {
            WriteCheckpoint(folder.Staging);
            throw new CliException(ExitCodes.TrainingDiverged, "The training loss is NaN.");
        });

        var error = act.Should().Throw<CliException>().Which;
        error.ExitCode.Should().Be(ExitCodes.TrainingDiverged);
        folder.KeptAt.Should().NotBeNull().And.StartWith(target + ".incomplete-");
        error.Message.Should().Contain(folder.KeptAt!);
        File.ReadAllText(System.IO.Path.Combine(folder.KeptAt!, "checkpoint", "last.safetensors")).Should().Be("weights");
        Directory.Exists(folder.Staging).Should().BeFalse();
        Directory.Exists(target).Should().BeFalse("the target only ever holds a complete run");
        File.Exists(System.IO.Path.Combine(folder.KeptAt!, StagingMarker.FileName)).Should().BeFalse();
    }

    [Fact]
    public void A_failure_before_any_checkpoint_leaves_nothing_behind_and_keeps_the_original_error()
    {
        using var temp = new TempFolder();
        using var folder = RunFolder.Create(temp.Combine("run"), force: false);

        var act = () => folder.CommitAfter<int>(() => throw new CliException(ExitCodes.DataError, "bad data"));

        act.Should().Throw<CliException>().WithMessage("bad data");
        folder.Dispose();
        Directory.GetFileSystemEntries(temp.Path).Should().BeEmpty();
    }

    [Fact]
    public void A_write_failure_after_the_checkpoint_keeps_it_with_exit_code_1()
    {
        using var temp = new TempFolder();
        using var folder = RunFolder.Create(temp.Combine("run"), force: false);

        var act = () => folder.CommitAfter<int>(() => { WriteCheckpoint(folder.Staging); throw new IOException("No space left on device"); });

        act.Should().Throw<CliException>().Where(e => e.ExitCode == ExitCodes.UnexpectedError && e.Message.Contains("No space left"));
        Directory.Exists(folder.KeptAt).Should().BeTrue();
    }

    /// <summary>What a run killed with SIGKILL leaves: a hidden staging folder, its (unlocked) marker, a checkpoint and a half-written temp file.</summary>
    private static string KilledRun(TempFolder temp, string name, bool withCheckpoint)
    {
        string staging = temp.Combine($".{name}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        File.WriteAllText(System.IO.Path.Combine(staging, StagingMarker.FileName), "lrcmt staging folder\npid 999999999\n");
        if (withCheckpoint)
        {
            WriteCheckpoint(staging);
            File.WriteAllText(System.IO.Path.Combine(staging, "checkpoint", $".last.safetensors.{Guid.NewGuid():N}.tmp"), "half");
        }
        return staging;
    }

    [Fact]
    public void A_later_run_recovers_a_killed_runs_checkpoint_into_a_visible_folder_and_removes_its_temp_files()
    {
        using var temp = new TempFolder();
        string stale = KilledRun(temp, "old", withCheckpoint: true);

        using var folder = RunFolder.Create(temp.Combine("new"), force: false);

        Directory.Exists(stale).Should().BeFalse();
        var recovered = Directory.GetDirectories(temp.Path, "old.incomplete-*").Should().ContainSingle().Subject;
        folder.Recovered.Should().ContainSingle().Which.Should().Contain(recovered);
        File.ReadAllText(System.IO.Path.Combine(recovered, "checkpoint", "last.safetensors")).Should().Be("weights");
        Directory.GetFiles(recovered, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        File.Exists(System.IO.Path.Combine(recovered, StagingMarker.FileName)).Should().BeFalse();
    }

    [Fact]
    public void Stale_staging_without_a_checkpoint_is_removed_but_folders_without_a_marker_are_never_touched()
    {
        using var temp = new TempFolder();
        string empty = KilledRun(temp, "empty", withCheckpoint: false);
        string foreign = temp.Combine(".someone-else.partial-1234");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(System.IO.Path.Combine(foreign, "data.txt"), "not ours");

        using var folder = RunFolder.Create(temp.Combine("new"), force: false);

        Directory.Exists(empty).Should().BeFalse();
        File.ReadAllText(System.IO.Path.Combine(foreign, "data.txt")).Should().Be("not ours");
    }

    [Fact]
    public void The_staging_folder_of_a_live_run_is_left_alone()
    {
        using var temp = new TempFolder();
        using var live = RunFolder.Create(temp.Combine("live"), force: false);
        WriteCheckpoint(live.Staging);

        using var other = RunFolder.Create(temp.Combine("other"), force: false);

        Directory.Exists(live.Staging).Should().BeTrue();
        other.Recovered.Should().BeEmpty();
    }
}
