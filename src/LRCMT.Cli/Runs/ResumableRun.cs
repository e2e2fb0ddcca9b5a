using LRCMT.Cli.Settings;
using LRCMT.Training;

namespace LRCMT.Cli.Runs;

/// <summary>
/// The run <c>train --resume &lt;name&gt;</c> continues. The name given to <c>--output</c> finds the run wherever it is: the
/// folder itself once it was committed (finished, or stopped by Ctrl+C/SIGTERM), or — when the process was killed
/// (SIGKILL, a second Ctrl+C, power loss) or failed — the hidden staging folder it left, or the visible
/// <c>&lt;name&gt;.incomplete-&lt;time&gt;</c> folder it was moved to. Every run writes its settings (config.json) before
/// anything else, so any of them can be resumed: from its last checkpoint, or from epoch 1 when it had none yet.
/// </summary>
/// <param name="Folder">The folder holding the run's files.</param>
/// <param name="Name">The name the run was given (its <c>--output</c>), where the result goes.</param>
/// <param name="Checkpoint">The trainer checkpoint to continue from, or null when the run stopped before its first one.</param>
/// <param name="Settings">The run's settings as its config.json records them.</param>
/// <param name="Notes">What was found, for the console.</param>
internal sealed record ResumableRun(string Folder, string Name, string? Checkpoint, RunSettings Settings, IReadOnlyList<string> Notes)
{
    /// <summary>Whether the run was found kept beside its name (a killed or failed run) rather than in the folder itself.</summary>
    internal bool IsKept => !string.Equals(Folder, Name, StringComparison.Ordinal);

    /// <summary>Finds the run called <paramref name="name"/> (see the type's remarks).</summary>
    /// <exception cref="CliException">There is no such run, or it cannot be resumed (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static ResumableRun Find(string name)
    {
        name = Path.TrimEndingDirectorySeparator(Path.GetFullPath(name));
        if (Directory.Exists(name))
        {
            var settings = SavedRun.ReadSettings(name);
            string checkpoint = CheckpointOf(name);
            if (!File.Exists(checkpoint))
                throw new CliException(ExitCodes.RunError, $"The run folder '{name}' has no trainer checkpoint ({checkpoint}); it cannot be resumed.");
            return new ResumableRun(name, name, checkpoint, settings, []);
        }

        string parent = Path.GetDirectoryName(name)!;
        string leaf = Path.GetFileName(name);
        var notes = new List<string>();
        bool live = false;
        if (Directory.Exists(parent))
        {
            // A killed run's staging folder is moved into view first (as any later run would), so it is never left hidden.
            foreach (var staging in Directory.EnumerateDirectories(parent, $".{leaf}{RunFolder.StagingInfix}*").ToList())
            {
                if (!StagingMarker.IsStale(staging))
                {
                    live = true;
                    continue;
                }
                if (!File.Exists(Path.Combine(staging, RunFiles.Configuration))) continue; // nothing of the run yet
                string kept = RunFolder.MoveToVisible(staging, name);
                notes.Add($"Found the staging folder of a killed run ({staging}) and moved it to {kept}.");
            }
        }
        var candidates = Directory.Exists(parent)
            ? Directory.EnumerateDirectories(parent, $"{leaf}{RunFolder.IncompleteInfix}*")
                .Where(folder => File.Exists(Path.Combine(folder, RunFiles.Configuration)))
                .OrderByDescending(folder => File.Exists(CheckpointOf(folder)))
                .ThenByDescending(folder => File.GetLastWriteTimeUtc(File.Exists(CheckpointOf(folder)) ? CheckpointOf(folder) : Path.Combine(folder, RunFiles.Configuration)))
                .ToList()
            : [];
        if (candidates.Count == 0)
            throw new CliException(ExitCodes.RunError, live
                ? $"The run '{name}' is still being written by a running lrcmt process; resume it once that process has ended."
                : $"The run folder '{name}' does not exist, and no interrupted run of that name ({leaf}{RunFolder.IncompleteInfix}…) is beside it.");

        string chosen = candidates[0];
        string? found = File.Exists(CheckpointOf(chosen)) ? CheckpointOf(chosen) : null;
        notes.Add(found is null
            ? $"Resuming the interrupted run kept in {chosen}: it stopped before its first checkpoint, so training starts again from epoch 1 with its settings."
            : $"Resuming the interrupted run kept in {chosen} from its last checkpoint.");
        if (candidates.Count > 1)
            notes.Add($"(Older interrupted runs of that name are left as they are: {string.Join(", ", candidates.Skip(1))}.)");
        return new ResumableRun(chosen, name, found, SavedRun.ReadSettings(chosen), notes);
    }

    private static string CheckpointOf(string folder) => Path.Combine(folder, RunFiles.TrainerCheckpoint, Trainer.LastCheckpointName);
}
