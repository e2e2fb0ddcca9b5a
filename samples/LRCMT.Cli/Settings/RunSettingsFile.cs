using System.Text.Json;
using System.Text.Json.Serialization;
using LRCMT.Errors;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Cli.Settings;

/// <summary>Reads run settings from an appsettings-style JSON file, checks them, and writes the resolved copy.</summary>
public static class RunSettingsFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Defaults, overlaid with <paramref name="path"/> when given (unknown keys are errors, so typos do not pass silently).</summary>
    /// <exception cref="CliException">The file is missing or not valid JSON for these settings (exit code <see cref="ExitCodes.ConfigurationError"/>).</exception>
    public static RunSettings Load(string? path)
    {
        var settings = new RunSettings();
        if (path is null) return settings;
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{full}' does not exist.");
        try
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(full, optional: false).Build();
            // Accept either the settings at the root or under an "Lrcmt" section, as in a larger appsettings.json.
            IConfiguration root = configuration.GetSection("Lrcmt").Exists() ? configuration.GetSection("Lrcmt") : configuration;
            root.Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
            // The binder appends configured array items to the defaults; a configured list must replace them.
            if (root.GetSection("Data:Controlled:IntensityScales").Get<float[]>() is { } scales)
                settings.Data.Controlled.IntensityScales = scales;
            if (root.GetSection("Model:LoraTargetModules").Get<string[]>() is { } targets)
                settings.Model.LoraTargetModules = targets;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or JsonException)
        {
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{full}' could not be read: {Inner(e).Message}", e);
        }
        return settings;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing every invalid setting.</summary>
    public static void Validate(RunSettings settings)
    {
        var problems = new List<string>();
        var data = settings.Data;
        if (data.MaxTextTokens is < 4 or > 512) problems.Add($"Data.MaxTextTokens must lie in [4, 512] (was {data.MaxTextTokens}).");
        if (data.IsControlled)
        {
            try { data.Controlled.Validate(); }
            catch (InvalidConfigurationException e) { problems.AddRange(e.Problems.Select(p => "Data.Controlled: " + p)); }
        }
        var model = settings.Model;
        if (model.FusionWidth < 1 || model.FusionHeads < 1 || model.FusionWidth % model.FusionHeads != 0)
            problems.Add($"Model.FusionWidth ({model.FusionWidth}) must be a positive multiple of Model.FusionHeads ({model.FusionHeads}).");
        if (model.FusionLayers < 1) problems.Add($"Model.FusionLayers must be at least 1 (was {model.FusionLayers}).");
        if (model.LoraRank < 1) problems.Add($"Model.LoraRank must be at least 1 (was {model.LoraRank}).");
        if (model.LoraTargetModules.Length == 0) problems.Add("Model.LoraTargetModules must name at least one projection.");
        var training = settings.Training;
        if (training.Epochs < 1) problems.Add($"Training.Epochs must be at least 1 (was {training.Epochs}).");
        if (training.BatchSize < 1) problems.Add($"Training.BatchSize must be at least 1 (was {training.BatchSize}).");
        if (!(training.AdapterLearningRate > 0) || !(training.FusionLearningRate > 0))
            problems.Add("Training.AdapterLearningRate and Training.FusionLearningRate must be positive.");
        if (training.WarmupRatio is < 0 or >= 1) problems.Add($"Training.WarmupRatio must lie in [0, 1) (was {training.WarmupRatio}).");
        if (training.Device is not ("cpu" or "cuda")) problems.Add($"Training.Device must be 'cpu' or 'cuda' (was '{training.Device}').");
        if (problems.Count > 0) throw new InvalidConfigurationException("run settings", problems);
    }

    /// <summary>Writes the resolved settings as indented JSON (the run folder's config.json).</summary>
    public static void Save(RunSettings settings, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(settings, Json));

    /// <summary>Reads a run folder's config.json back.</summary>
    public static RunSettings ReadResolved(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RunSettings>(File.ReadAllText(path), Json)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.RunError, $"The run configuration '{path}' is not valid: {e.Message}", e);
        }
    }

    private static Exception Inner(Exception e) => e.InnerException is { } inner && e is InvalidDataException ? inner : e;
}
