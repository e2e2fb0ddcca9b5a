using LRCMT.Errors;

namespace LRCMT.Cli.Runs;

/// <summary>
/// The output folder of one run, written so that nothing is ever half-written: files go to a hidden staging folder
/// beside the target, and <see cref="Commit"/> moves it into place in one rename. An existing target is refused
/// unless forced, and even then it is replaced only at commit, so a run that fails keeps the previous results.
/// </summary>
/// <remarks>
/// A run that fails after writing a trainer checkpoint (divergence, a write error, a crash in evaluation) is never
/// deleted: <see cref="KeepIncomplete"/> moves it to a visible <c>&lt;target&gt;.incomplete-&lt;time&gt;</c> folder that
/// the error message names. Staging folders carry a locked <see cref="StagingMarker"/>; <see cref="Create"/> finds the
/// stale ones of killed runs beside the target and recovers them the same way (or deletes them if they hold no checkpoint).
/// </remarks>
public sealed class RunFolder : IDisposable
{
    /// <summary>What a staging folder's name holds between the target's name and its unique suffix: <c>.&lt;name&gt;.partial-&lt;guid&gt;</c>.</summary>
    internal const string StagingInfix = ".partial-";

    /// <summary>What a kept run's name holds after the target's name: <c>&lt;name&gt;.incomplete-&lt;UTC time&gt;</c>.</summary>
    internal const string IncompleteInfix = ".incomplete-";
    private readonly StagingMarker _marker;
    private readonly OutputLock _lock;
    private bool _committed;
    private bool _released;
    private bool _disposed;

    private RunFolder(string target, string staging, StagingMarker marker, OutputLock outputLock, IReadOnlyList<string> recovered)
    {
        Target = target;
        Staging = staging;
        _marker = marker;
        _lock = outputLock;
        Recovered = recovered;
    }

    /// <summary>Where the results will be once committed.</summary>
    public string Target { get; }

    /// <summary>Where files are written until <see cref="Commit"/>.</summary>
    public string Staging { get; }

    /// <summary>Where an uncommitted run with a checkpoint was moved, once <see cref="KeepIncomplete"/> (or disposal) did so.</summary>
    public string? KeptAt { get; private set; }

    /// <summary>One line per stale staging folder of an earlier, killed run that <see cref="Create"/> recovered or removed.</summary>
    public IReadOnlyList<string> Recovered { get; }

    /// <summary>
    /// Takes the target's <see cref="OutputLock"/> (held until disposal), checks the target, recovers stale staging
    /// folders beside it, and creates the staging folder.
    /// </summary>
    /// <exception cref="CliException">
    /// Another run holds the target (<see cref="ExitCodes.OutputInUse"/>), or the target exists and
    /// <paramref name="force"/> is false (<see cref="ExitCodes.OutputExists"/>).
    /// </exception>
    /// <exception cref="OutputFileException">The parent, the lock or the staging folder cannot be written.</exception>
    public static RunFolder Create(string target, bool force)
    {
        target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        if (System.IO.File.Exists(target))
            throw new CliException(ExitCodes.OutputExists, $"The output path '{target}' is an existing file; choose another --output.");
        string parent = Path.GetDirectoryName(target) ?? ".";
        IO.OutputFile.Write(parent, () => Directory.CreateDirectory(parent));
        // Locked before the existence check: of two runs starting into the same new folder, the second stops here.
        var outputLock = OutputLock.Acquire(target);
        try
        {
            if (Directory.Exists(target) && !force)
                throw new CliException(ExitCodes.OutputExists,
                    $"The output folder '{target}' already exists. Choose another --output, or add --force to replace it.");

            var recovered = RecoverStale(parent);
            string staging = Path.Combine(parent, $".{Path.GetFileName(target)}{StagingInfix}{Guid.NewGuid():N}");
            IO.OutputFile.Write(staging, () => Directory.CreateDirectory(staging));
            return new RunFolder(target, staging, StagingMarker.Create(staging), outputLock, recovered);
        }
        catch
        {
            outputLock.Dispose();
            throw;
        }
    }

    /// <summary>Path of a file inside the staging folder.</summary>
    public string File(string name) => Path.Combine(Staging, name);

    /// <summary>Moves the staged files to the target (replacing an existing target only now).</summary>
    public void Commit()
    {
        if (_committed) return;
        ReleaseMarker();
        if (Directory.Exists(Target))
        {
            // Move the old folder aside first so the target is never a mix of old and new files.
            string previous = Target + $".replaced-{Guid.NewGuid():N}";
            Directory.Move(Target, previous);
            Directory.Move(Staging, Target);
            Directory.Delete(previous, recursive: true);
        }
        else
        {
            Directory.Move(Staging, Target);
        }
        _committed = true;
    }

    /// <summary>
    /// Runs <paramref name="work"/> and commits. If either fails after a checkpoint was written, the partial run is
    /// moved to a visible folder (<see cref="KeepIncomplete"/>) and the error is rethrown as a <see cref="CliException"/>
    /// with the same exit code whose message names that folder.
    /// </summary>
    public T CommitAfter<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            T result = work();
            Commit();
            return result;
        }
        catch (Exception e)
        {
            if (KeepIncomplete() is not { } kept) throw;
            var (code, message) = CliApp.Explain(e);
            string checkpoint = Path.Combine(kept, RunFiles.TrainerCheckpoint, Training.Trainer.LastCheckpointName);
            if (System.IO.File.Exists(checkpoint))
                throw new CliException(code,
                    $"{message} The partial run was moved to {kept}; its last good checkpoint is {checkpoint}. " +
                    $"Continue it with: lrcmt train --resume {kept}", e);
            // Several runs (an ablation): the finished ones are kept with the interrupted one's checkpoint in its own folder.
            string report = System.IO.File.Exists(Path.Combine(kept, RunFiles.AblationRecord))
                ? " Its ablation.json lists the runs that finished: 'lrcmt ablate --merge' combines them with a folder that re-runs the rest."
                : "";
            throw new CliException(code, $"{message} The partial runs were moved to {kept}; each run folder in it keeps its files and checkpoint.{report}", e);
        }
    }

    /// <summary>
    /// For a run that will not be committed: when the staging folder holds a trainer checkpoint, moves it (with whatever
    /// else was written) to a visible folder beside the target and returns that folder; otherwise returns null.
    /// </summary>
    public string? KeepIncomplete()
    {
        if (_committed || KeptAt is not null || !Directory.Exists(Staging)) return KeptAt;
        if (!HoldsCheckpoint(Staging)) return null;
        ReleaseMarker();
        KeptAt = MoveToVisible(Staging, Target);
        return KeptAt;
    }

    /// <summary>Keeps an uncommitted run that holds a checkpoint (see <see cref="KeepIncomplete"/>); removes any other; releases the output's lock.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            if (_committed) return;
            if (KeepIncomplete() is null && Directory.Exists(Staging))
            {
                ReleaseMarker();
                Directory.Delete(Staging, recursive: true);
            }
            ReleaseMarker();
        }
        finally
        {
            _lock.Dispose();
        }
    }

    private void ReleaseMarker()
    {
        if (_released) return;
        _released = true;
        _marker.Dispose();
    }

    // A run's checkpoint folder, or an ablation variant's (one level further down).
    private static bool HoldsCheckpoint(string staging) =>
        Directory.EnumerateFiles(staging, "*.safetensors", SearchOption.AllDirectories)
            .Any(f => Path.GetFileName(Path.GetDirectoryName(f)) == RunFiles.TrainerCheckpoint);

    /// <summary>Moves <paramref name="staging"/> to <c>&lt;target&gt;.incomplete-&lt;UTC time&gt;</c> (made unique), cleaning our temp files.</summary>
    internal static string MoveToVisible(string staging, string target)
    {
        StagingMarker.RemoveLeftovers(staging);
        string stem = $"{target}{IncompleteInfix}{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        string kept = stem;
        for (int i = 2; Directory.Exists(kept) || System.IO.File.Exists(kept); i++) kept = $"{stem}-{i}";
        Directory.Move(staging, kept);
        return kept;
    }

    /// <summary>Stale staging folders of killed runs in <paramref name="parent"/>: kept visibly if they hold a checkpoint, else deleted.</summary>
    private static IReadOnlyList<string> RecoverStale(string parent)
    {
        var lines = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories(parent, $".*{StagingInfix}*").ToList())
        {
            if (!StagingMarker.IsStale(folder)) continue;
            string name = Path.GetFileName(folder);
            string target = Path.Combine(parent, name[1..name.LastIndexOf(StagingInfix, StringComparison.Ordinal)]);
            try
            {
                if (HoldsCheckpoint(folder)) lines.Add($"Recovered the checkpoint of an interrupted earlier run into {MoveToVisible(folder, target)}.");
                else
                {
                    Directory.Delete(folder, recursive: true);
                    lines.Add($"Removed the stale staging folder {folder} of an earlier run (it held no checkpoint).");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                lines.Add($"Could not clean the stale staging folder {folder}: {e.Message}");
            }
        }
        return lines;
    }
}
