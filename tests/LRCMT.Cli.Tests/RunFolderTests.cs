using FluentAssertions;
using LRCMT.Cli;
using LRCMT.Cli.Runs;
using Xunit;

namespace LRCMT.Tests.Cli;

public class RunFolderTests
{
    [Fact]
    public void Files_appear_in_the_target_only_at_commit()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");

        using (var folder = RunFolder.Create(target, force: false))
        {
            File.WriteAllText(folder.File("metrics.json"), "{}");
            Directory.Exists(target).Should().BeFalse();
            folder.Commit();
        }

        File.ReadAllText(System.IO.Path.Combine(target, "metrics.json")).Should().Be("{}");
        Directory.GetDirectories(temp.Path).Should().ContainSingle();
    }

    [Fact]
    public void A_run_that_fails_before_commit_leaves_the_previous_results_and_no_staging_folder()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        Directory.CreateDirectory(target);
        File.WriteAllText(System.IO.Path.Combine(target, "metrics.json"), "old");

        using (var folder = RunFolder.Create(target, force: true))
            File.WriteAllText(folder.File("metrics.json"), "half-written");

        File.ReadAllText(System.IO.Path.Combine(target, "metrics.json")).Should().Be("old");
        Directory.GetDirectories(temp.Path).Should().ContainSingle();
    }

    [Fact]
    public void Force_replaces_the_previous_folder_whole_at_commit()
    {
        using var temp = new TempFolder();
        string target = temp.Combine("run");
        Directory.CreateDirectory(target);
        File.WriteAllText(System.IO.Path.Combine(target, "stale.txt"), "old");

        using (var folder = RunFolder.Create(target, force: true))
        {
            File.WriteAllText(folder.File("metrics.json"), "new");
            folder.Commit();
        }

        Directory.GetFiles(target).Select(System.IO.Path.GetFileName).Should().Equal("metrics.json");
    }

    [Fact]
    public void An_existing_target_is_refused_without_force()
    {
        using var temp = new TempFolder();

        var act = () => RunFolder.Create(temp.Path, force: false);

        act.Should().Throw<CliException>().Which.ExitCode.Should().Be(ExitCodes.OutputExists);
    }
}
