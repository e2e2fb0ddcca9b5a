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
    /// Throws <see cref="InvalidConfigurationException"/> listing every problem of the settings, each at its path
    /// (<c>Model.Fusion.Heads</c>, <c>Data.BatchSize</c>, …): the library's own rules for the model, trainer and
    /// benchmark sections (<c>FindProblems</c>), the same rules for the data section, and the tool's own settings.
    /// </summary>
    public static void Validate(RunSettings settings)
    {
        var data = settings.Data;
        var problems = SettingRules.Collect(
            SettingRules.TextTokens("Data.MaxTextTokens", data.MaxTextTokens),
            SettingRules.BatchSize("Data.BatchSize", data.BatchSize),
            RunSettings.ThreadsRule("Threads", settings.Threads),
            SettingRules.OneOf("Device", settings.Device, "cpu", "cuda"),
            data.IsControlled && data.Dataset == MsaDataset.Sims
                ? new SettingProblem("Data.Dataset", "Sims needs an MMSA file: the controlled benchmark has MOSI-style labels in [-3, 3]")
                : null);
        if (data.IsControlled) problems.AddRange(data.Controlled.FindProblems().Select(p => p.Within("Data.Controlled")));
        problems.AddRange(settings.Training.FindProblems().Select(p => p.Within("Training")));
        // The CLI gives the encoder to the builder in code, so only a source set in the model section is a problem.
        problems.AddRange(settings.Model.FindProblems(encoderGivenInCode: true).Select(p => p.Within("Model")));
        // Non-finite numbers and unnamed enum values anywhere, where no rule above has spoken for that setting already.
        var spoken = problems.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(SettingsValues.Problems(settings).Where(v => !spoken.Contains(v.Path)));
        SettingRules.ThrowIfAny("run settings", problems);
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
