using System.Text.Json;
using System.Text.Json.Serialization;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Models;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Cli.Settings;

/// <summary>Reads run settings from an appsettings-style JSON file, checks them, and writes the resolved copy.</summary>
public static class RunSettingsFile
{
    /// <summary>The section of an appsettings.json that may hold the run settings.</summary>
    public const string SectionName = "LrcmtRun";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // Computed properties (e.g. LoRAConfig.TargetsAllLinear) are not settings: writing them would make config.json unreadable.
        IgnoreReadOnlyProperties = true,
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
        CheckSyntax(full);
        try
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(full, optional: false).Build();
            // Accept the settings at the root or under a "LrcmtRun" section of a larger appsettings.json (not "Lrcmt",
            // which is where the library's own LrcmtOptions bind).
            IConfiguration root = configuration.GetSection(SectionName).Exists() ? configuration.GetSection(SectionName) : configuration;
            if (SettingsKeys.UnknownKeys(root, typeof(RunSettings)) is { Count: > 0 } unknown)
                throw new CliException(ExitCodes.ConfigurationError,
                    $"The configuration file '{full}' has settings that do not exist:{Environment.NewLine}  - " +
                    string.Join(Environment.NewLine + "  - ", unknown));
            root.Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
            // The binder appends configured array items to the defaults; a configured list must replace them.
            if (root.GetSection("Data:Controlled:IntensityScales").Get<float[]>() is { } scales)
                settings.Data.Controlled.IntensityScales = scales;
            if (root.GetSection("Model:LoRA:TargetModules").Get<List<string>>() is { } targets)
                settings.Model.LoRA.TargetModules = targets;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or JsonException)
        {
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{full}' could not be read: {Inner(e).Message}", e);
        }
        return settings;
    }

    /// <summary>Refuses a file that is not JSON, naming the line and column of the first error (both from 1).</summary>
    private static void CheckSyntax(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "an unknown position";
            string reason = e.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0];
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{path}' is not valid JSON at {where}: {reason}", e);
        }
    }

    /// <summary>
    /// Throws <see cref="InvalidConfigurationException"/> listing every invalid data, trainer and device setting.
    /// The model section is checked by <c>LrcmtBuilder.Build</c>, which lists its own problems the same way.
    /// </summary>
    public static void Validate(RunSettings settings)
    {
        var problems = new List<string>();
        var data = settings.Data;
        if (data.MaxTextTokens is < 4 or > 512) problems.Add($"Data.MaxTextTokens must lie in [4, 512] (was {data.MaxTextTokens}).");
        if (data.BatchSize < 1) problems.Add($"Data.BatchSize must be at least 1 (was {data.BatchSize}).");
        if (data.IsControlled) Collect("Data.Controlled", data.Controlled.Validate, problems);
        Collect("Training", settings.Training.Validate, problems);
        if (settings.Threads < 0) problems.Add($"Threads must be 0 (libtorch's default) or more (was {settings.Threads}).");
        problems.AddRange(ResourceLimits.Problems(settings));
        if (settings.Device is not ("cpu" or "cuda")) problems.Add($"Device must be 'cpu' or 'cuda' (was '{settings.Device}').");
        if (data.IsControlled && data.Dataset == MsaDataset.Sims)
            problems.Add("Data.Dataset Sims needs an MMSA file: the controlled benchmark has MOSI-style labels in [-3, 3].");
        problems.AddRange(SettingsValues.Problems(settings));
        problems.AddRange(ModelProblems(settings.Model).Select(p => $"Model: {p}"));
        if (problems.Count > 0) throw new InvalidConfigurationException("run settings", problems);
    }

    // The library's own checks of the model section (LrcmtBuilder runs them again), here so they fail before any data
    // is generated or an encoder loaded. The CLI gives the encoder in code, so the file-source rules do not apply.
    private static IEnumerable<string> ModelProblems(LrcmtOptions model)
    {
        var copy = JsonSerializer.Deserialize<LrcmtOptions>(JsonSerializer.Serialize(model, Json), Json)!;
        return copy.FindProblems(encoderGivenInCode: true).Where(f => !f.Contains("TextEncoder.", StringComparison.Ordinal));
    }

    private static void Collect(string section, Action validate, List<string> problems)
    {
        try { validate(); }
        catch (InvalidConfigurationException e) { problems.AddRange(e.Problems.Select(p => $"{section}: {p}")); }
    }

    /// <summary>Writes the resolved settings as indented JSON (the run folder's config.json).</summary>
    public static void Save(RunSettings settings, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(settings, Json));

    /// <summary>A deep copy (through the same JSON form as config.json).</summary>
    public static RunSettings Clone(RunSettings settings) =>
        JsonSerializer.Deserialize<RunSettings>(JsonSerializer.Serialize(settings, Json), Json)!;

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
