namespace LRCMT.Cli.Runs;

/// <summary>
/// The output folder of one run, written so that nothing is ever half-written: files go to a hidden staging folder
/// beside the target, and <see cref="Commit"/> moves it into place in one rename. An existing target is refused
/// unless forced, and even then it is replaced only at commit, so a run that fails keeps the previous results.
/// </summary>
public sealed class RunFolder : IDisposable
{
    private bool _committed;

    private RunFolder(string target, string staging)
    {
        Target = target;
        Staging = staging;
    }

    /// <summary>Where the results will be once committed.</summary>
    public string Target { get; }

    /// <summary>Where files are written until <see cref="Commit"/>.</summary>
    public string Staging { get; }

    /// <summary>Checks the target and creates the staging folder.</summary>
    /// <exception cref="CliException">The target exists and <paramref name="force"/> is false (exit code <see cref="ExitCodes.OutputExists"/>).</exception>
    public static RunFolder Create(string target, bool force)
    {
        target = Path.GetFullPath(target);
        if (System.IO.File.Exists(target))
            throw new CliException(ExitCodes.OutputExists, $"The output path '{target}' is an existing file; choose another --output.");
        if (Directory.Exists(target) && !force)
            throw new CliException(ExitCodes.OutputExists,
                $"The output folder '{target}' already exists. Choose another --output, or add --force to replace it.");

        string parent = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return new RunFolder(target, staging);
    }

    /// <summary>Path of a file inside the staging folder.</summary>
    public string File(string name) => Path.Combine(Staging, name);

    /// <summary>Moves the staged files to the target (replacing an existing target only now).</summary>
    public void Commit()
    {
        if (_committed) return;
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

    /// <summary>Removes the staging folder of a run that was not committed.</summary>
    public void Dispose()
    {
        if (!_committed && Directory.Exists(Staging)) Directory.Delete(Staging, recursive: true);
    }
}
