using LRCMT.Cli.Settings;
using LRCMT.Configuration;

namespace LRCMT.Cli.Runs;

/// <summary>
/// A run folder written by <c>train</c>, opened for <c>eval</c>: its resolved settings and either the saved model
/// (<c>model/</c>, this release) or, from a folder written by an earlier release, its <c>trainable.safetensors</c>.
/// </summary>
internal sealed record SavedRun(string Folder, RunSettings Settings, string? ModelFolder, string? LegacyTrainableWeights)
{
    /// <summary>Opens <paramref name="folder"/>, checking that the files <c>eval</c> needs are there.</summary>
    /// <exception cref="CliException">The folder or one of its files is missing (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static SavedRun Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
            throw new CliException(ExitCodes.RunError, $"The run folder '{folder}' does not exist.");
        string configuration = Path.Combine(folder, RunFiles.Configuration);
        string model = Path.Combine(folder, RunFiles.Model);
        string legacy = Path.Combine(folder, RunFiles.TrainableWeights);
        bool hasModel = File.Exists(Path.Combine(model, ModelManifestFile));
        bool hasLegacy = File.Exists(legacy);
        if (!File.Exists(configuration) || (!hasModel && !hasLegacy))
            throw new CliException(ExitCodes.RunError,
                $"The run folder '{folder}' lacks {(File.Exists(configuration) ? "" : $"{RunFiles.Configuration} and ")}" +
                $"{RunFiles.Model}/{ModelManifestFile} (or, from an earlier release, {RunFiles.TrainableWeights}); was it written by 'lrcmt train'?");
        var settings = RunSettingsFile.ReadResolved(configuration);
        return hasModel ? new SavedRun(folder, settings, model, null) : new SavedRun(folder, WithLegacyDefaults(settings), null, legacy);
    }

    /// <summary>
    /// The settings of the run in <paramref name="folder"/> (its config.json: a finished run's points to its saved model,
    /// an unfinished run's holds the model section itself), for <c>train --resume</c>, which needs nothing else.
    /// </summary>
    /// <exception cref="CliException">The folder has no config.json (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static RunSettings ReadSettings(string folder)
    {
        string configuration = Path.Combine(folder, RunFiles.Configuration);
        if (!File.Exists(configuration))
            throw new CliException(ExitCodes.RunError, $"The run folder '{folder}' lacks {RunFiles.Configuration}; was it written by 'lrcmt train'?");
        var settings = RunSettingsFile.ReadResolved(configuration);
        return File.Exists(Path.Combine(folder, RunFiles.TrainableWeights)) && !File.Exists(Path.Combine(folder, RunFiles.Model, ModelManifestFile))
            ? WithLegacyDefaults(settings) : settings;
    }

    /// <summary>The manifest a saved model folder holds (<c>LRCMTModel.Save</c>).</summary>
    private const string ModelManifestFile = "lrcmt_config.json";

    /// <summary>Earlier releases wrote empty LoRA targets for LRCMT's default ones, which the options now spell out.</summary>
    private static RunSettings WithLegacyDefaults(RunSettings settings)
    {
        var lora = settings.Model.LoRA;
        if (lora.TargetModules is not { Count: > 0 } && string.IsNullOrWhiteSpace(lora.TargetRegex))
            settings.Model = settings.Model with { LoRA = lora with { TargetModules = new LrcmtOptions().LoRA.TargetModules } };
        return settings;
    }
}
