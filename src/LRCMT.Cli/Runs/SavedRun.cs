using LRCMT.Cli.Settings;

namespace LRCMT.Cli.Runs;

/// <summary>A run folder written by <c>train</c>, opened for <c>eval</c>: its resolved settings and trainable weights.</summary>
internal sealed record SavedRun(string Folder, RunSettings Settings, string TrainableWeights)
{
    /// <summary>Opens <paramref name="folder"/>, checking that the files <c>eval</c> needs are there.</summary>
    /// <exception cref="CliException">The folder or one of its files is missing (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static SavedRun Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
            throw new CliException(ExitCodes.RunError, $"The run folder '{folder}' does not exist.");
        var missing = new[] { RunFiles.Configuration, RunFiles.TrainableWeights }
            .Where(name => !File.Exists(Path.Combine(folder, name))).ToList();
        if (missing.Count > 0)
            throw new CliException(ExitCodes.RunError,
                $"The run folder '{folder}' lacks {string.Join(" and ", missing)}; was it written by 'lrcmt train'?");
        var settings = RunSettingsFile.ReadResolved(Path.Combine(folder, RunFiles.Configuration));
        return new SavedRun(folder, settings, Path.Combine(folder, RunFiles.TrainableWeights));
    }
}
