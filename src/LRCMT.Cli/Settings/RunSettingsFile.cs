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

    /// <summary>The model descriptions <c>--preset</c> starts from: the library's defaults and its named presets.</summary>
    public static IReadOnlyDictionary<string, LrcmtOptions> Presets { get; } = new Dictionary<string, LrcmtOptions>
    {
        ["default"] = new(),
        ["paper"] = LrcmtPresets.Paper,
    };

    /// <summary>
    /// Defaults (the model section starting from <paramref name="preset"/>), overlaid with <paramref name="path"/> when
    /// given (unknown keys are errors, so typos do not pass silently). A <c>ModelFolder</c> in the file is read as its
    /// model section. Every problem of the file is reported at once, with the value rules' problems of what it sets.
    /// </summary>
    /// <exception cref="CliException">The file is missing, not JSON, or has problems (exit code <see cref="ExitCodes.ConfigurationError"/>).</exception>
    public static RunSettings Load(string? path, string? preset = null)
    {
        var problems = new List<SettingProblem>();
        var settings = Read(path, preset, problems);
        Validate(settings, problems, path);
        return settings;
    }

    /// <summary>
    /// As <see cref="Load"/>, but the problems of the file's keys and values are added to <paramref name="problems"/>
    /// (those keys left out) instead of thrown, so the caller can apply flags and report them with the value rules'.
    /// </summary>
    /// <param name="path">The settings file, or null for none.</param>
    /// <param name="preset">The model description to start from, or null.</param>
    /// <param name="problems">Receives the file's problems.</param>
    /// <param name="baseline">Settings to start from instead of the defaults (a resumed run's own): the file then changes only what it names.</param>
    internal static RunSettings Read(string? path, string? preset, List<SettingProblem> problems, RunSettings? baseline = null)
    {
        var start = preset is not null ? Presets[preset] : baseline?.Model ?? new LrcmtOptions();
        var settings = baseline is null ? new RunSettings() : Clone(baseline);
        settings.Model = start;
        if (path is null) return settings;
        string full = Path.GetFullPath(path);
        if (!IO.InputFile.IsPresent(full))
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{full}' does not exist.");
        var bytes = ReadBounded(full, ExitCodes.ConfigurationError);
        CheckSyntax(full, bytes);
        try
        {
            // From the bytes read once through the bounded reader (the JSON file provider would open the path again, and block on a FIFO).
            var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(bytes, writable: false)).Build();
            // Accept the settings at the root or under a "LrcmtRun" section of a larger appsettings.json (not "Lrcmt",
            // which is where the library's own LrcmtOptions bind).
            bool inSection = configuration.GetSection(SectionName).Exists();
            IConfiguration file = inSection ? configuration.GetSection(SectionName) : configuration;
            string prefix = inSection ? SectionName : "";
            var found = SettingsKeys.Problems(file, typeof(RunSettings), prefix);
            problems.AddRange(found.Select(f => f.Problem));
            var root = found.Count == 0 ? file : SettingsKeys.WithoutProblems(file, found.Select(f => f.Key), prefix);
            // The binder sets the model section's properties in place: it binds a throwaway copy here (for its type
            // checks), and the library binds the section onto the starting description below, lists replacing lists.
            settings.Model = new LrcmtOptions();
            root.Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
            // The binder appends configured array items to the defaults; a configured list must replace them.
            if (root.GetSection("Data:Controlled:IntensityScales").Get<float[]>() is { } scales)
                settings.Data.Controlled.IntensityScales = scales;
            // What a run records about itself is not a setting: a run's config.json read as settings starts a new record.
            settings.Environment = baseline?.Environment;
            settings.Resumptions = baseline is null ? [] : [.. baseline.Resumptions];
            var model = root.GetSection(nameof(RunSettings.Model));
            if (settings.ModelFolder is null) settings.Model = LrcmtOptions.FromConfiguration(model, start);
            else if (model.Exists() || preset is not null)
                throw new CliException(ExitCodes.ConfigurationError,
                    $"The configuration file '{full}' names a ModelFolder, whose description is the model; it cannot also take a Model section or --preset.");
            else ReadModelFolder(settings, full, ExitCodes.ConfigurationError);
        }
        // InvalidCastException: the binder meeting an object where a list of numbers goes (found by the fuzz suite).
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or JsonException or InvalidCastException)
        {
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{full}' could not be read: {Inner(e).Message}", e);
        }
        catch (InvalidConfigurationException e)
        {
            // The library's own checks while binding the model section: reported with the file's other problems.
            problems.AddRange(e.Problems.Select(p => p.Within(nameof(RunSettings.Model))));
        }
        return settings;
    }

    /// <summary>
    /// The most JSON values a settings file may hold: real ones hold a few hundred, and the configuration binder spends
    /// kilobytes on each (a 100 KB file of 20,000 nulls made it allocate 70 MB).
    /// </summary>
    private const int MaxValues = 10_000;

    /// <summary>Refuses a file that is not JSON, naming the line and column of the first error (both from 1), or one of more than <see cref="MaxValues"/> values.</summary>
    private static void CheckSyntax(string path, byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes,
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (CountValues(document.RootElement) is var count and > MaxValues)
                throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{path}' holds {count:N0} or more JSON values; a settings file may hold at most {MaxValues:N0}.");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "an unknown position";
            string reason = e.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0];
            throw new CliException(ExitCodes.ConfigurationError, $"The configuration file '{path}' is not valid JSON at {where}: {reason}", e);
        }
    }

    /// <summary>
    /// Refuses the settings with every problem they have, each at its path (<c>Model.Fusion.Heads</c>,
    /// <c>Data.BatchSize</c>, …): <paramref name="found"/> (a settings file's own, see <see cref="Read"/>), the
    /// library's rules for the model, trainer and benchmark sections (<c>FindProblems</c>), the same rules for the
    /// data section, and the tool's own settings.
    /// </summary>
    /// <param name="settings">The resolved settings.</param>
    /// <param name="found">Problems found while reading the settings file, or null.</param>
    /// <param name="file">The settings file, named in the message, or null.</param>
    /// <exception cref="CliException">There is a problem (exit code <see cref="ExitCodes.ConfigurationError"/>; the inner
    /// <see cref="InvalidConfigurationException"/> carries the problems).</exception>
    public static void Validate(RunSettings settings, IReadOnlyList<SettingProblem>? found = null, string? file = null)
    {
        var data = settings.Data;
        var problems = new List<SettingProblem>(found ?? []);
        problems.AddRange(SettingRules.Collect(
            SettingRules.TextTokens("Data.MaxTextTokens", data.MaxTextTokens),
            SettingRules.BatchSize("Data.BatchSize", data.BatchSize),
            RunSettings.ThreadsRule("Threads", settings.Threads),
            SettingRules.OneOf("Device", settings.Device, "cpu", "cuda"),
            data.IsControlled && data.Dataset == MsaDataset.Sims
                ? new SettingProblem("Data.Dataset", "Sims needs an MMSA file: the controlled benchmark has MOSI-style labels in [-3, 3]")
                : null));
        if (data.IsControlled) problems.AddRange(data.Controlled.FindProblems().Select(p => p.Within("Data.Controlled")));
        problems.AddRange(settings.Training.FindProblems().Select(p => p.Within("Training")));
        problems.AddRange(settings.Model.FindProblems().Select(p => p.Within("Model")));
        // Non-finite numbers and unnamed enum values anywhere, where no rule above has spoken for that setting already.
        var spoken = problems.Select(p => p.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);
        problems.AddRange(SettingsValues.Problems(settings).Where(v => !spoken.Contains(v.Path)));
        if (problems.Count == 0) return;
        string what = file is null ? "run settings" : $"settings in '{Path.GetFullPath(file)}'";
        var invalid = new InvalidConfigurationException(what, problems.DistinctBy(p => p.ToString()).ToList());
        throw new CliException(ExitCodes.ConfigurationError, Describe(what, invalid.Problems), invalid);
    }

    /// <summary>"Invalid …:" and one problem per line: a settings file can have many, and each names its setting.</summary>
    internal static string Describe(string what, IReadOnlyList<SettingProblem> problems) =>
        problems.Count == 1 ? $"Invalid {what}: {problems[0]}"
            : $"Invalid {what} ({problems.Count} problems):" + string.Concat(problems.Select(p => $"{Environment.NewLine}  - {p}"));

    /// <summary>
    /// Writes the resolved settings as indented JSON (the run folder's config.json). With <paramref name="modelFolder"/>
    /// (a saved model beside the file), the model section is that folder's description: the file points to it
    /// instead of copying it.
    /// </summary>
    public static void Save(RunSettings settings, string path, string? modelFolder = null)
    {
        var json = JsonSerializer.SerializeToNode(settings, Json)!.AsObject();
        json.Remove(nameof(RunSettings.ModelFolder));
        if (settings.Resumptions.Count == 0) json.Remove(nameof(RunSettings.Resumptions));
        if (modelFolder is not null)
        {
            json.Remove(nameof(RunSettings.Model));
            json[nameof(RunSettings.ModelFolder)] = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(path))!, modelFolder).Replace('\\', '/');
        }
        // Atomically: a run killed at any moment leaves the previous config.json or this one, which --resume reads.
        IO.OutputFile.Write(path, () => Runs.AtomicFile.WriteAllText(path, json.ToJsonString(Json)));
    }

    /// <summary>The settings as config.json writes them (the model section included).</summary>
    internal static string ToJson(RunSettings settings) => JsonSerializer.Serialize(settings, Json);

    // Values under element (itself included), counted up to one past MaxValues.
    private static int CountValues(JsonElement element)
    {
        int count = 1;
        if (element.ValueKind == JsonValueKind.Array)
            foreach (var item in element.EnumerateArray()) { count += CountValues(item); if (count > MaxValues) break; }
        else if (element.ValueKind == JsonValueKind.Object)
            foreach (var property in element.EnumerateObject()) { count += CountValues(property.Value); if (count > MaxValues) break; }
        return count;
    }

    /// <summary>A settings file or run record through the bounded reader (regular file, at most its limit, strict UTF-8).</summary>
    private static byte[] ReadBounded(string path, int exitCode)
    {
        try
        {
            return IO.InputFile.ReadAllUtf8(path, IO.InputKind.RunSettings).ToArray();
        }
        catch (Exception e) when (e is InputFileException or CorruptFileException)
        {
            throw new CliException(exitCode, $"The file '{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Replaces the model section by the description of the saved model <see cref="RunSettings.ModelFolder"/> names
    /// (relative to <paramref name="settingsFile"/>); a folder that cannot be read (missing, tampered) ends with
    /// <paramref name="exitCode"/>: a settings error for a file the user wrote, a run error for a run folder's record.
    /// </summary>
    private static void ReadModelFolder(RunSettings settings, string settingsFile, int exitCode)
    {
        string folder = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(settingsFile)!, settings.ModelFolder!));
        try
        {
            settings.Model = LRCMTModel.ReadOptions(folder);
            settings.ModelFolder = null;
        }
        catch (Exception e) when (e is LrcmtException or FileNotFoundException or IOException)
        {
            throw new CliException(exitCode,
                $"The model folder '{folder}' that '{settingsFile}' names could not be read: {e.Message}", e);
        }
    }

    /// <summary>A deep copy (through the same JSON form as config.json).</summary>
    public static RunSettings Clone(RunSettings settings) =>
        JsonSerializer.Deserialize<RunSettings>(JsonSerializer.Serialize(settings, Json), Json)!;

    /// <summary>Reads a run folder's config.json back.</summary>
    public static RunSettings ReadResolved(string path)
    {
        try
        {
            string text = System.Text.Encoding.UTF8.GetString(ReadBounded(path, ExitCodes.RunError));
            var settings = JsonSerializer.Deserialize<RunSettings>(text, Json)
                ?? throw new JsonException("the file holds null");
            if (settings.ModelFolder is not null) ReadModelFolder(settings, Path.GetFullPath(path), ExitCodes.RunError);
            else if (settings.Model?.TextEncoder is null) throw new JsonException("the run record holds neither a ModelFolder nor a Model section with its TextEncoder");
            else settings.Model = WithLegacyEncoder(settings.Model, text);
            return settings;
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.RunError, $"The run configuration '{path}' is not valid: {e.Message}", e);
        }
    }

    /// <summary>
    /// A config.json of an earlier release named the encoder in its own section (<c>"Encoder": { "Source": … }</c>); the
    /// model's description now does.
    /// </summary>
    private static LrcmtOptions WithLegacyEncoder(LrcmtOptions model, string json)
    {
        if (model.TextEncoder.PretrainedFolder is not null || model.TextEncoder.OnnxFile is not null) return model;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("Encoder", out var encoder) && encoder.ValueKind == JsonValueKind.Object
            && encoder.TryGetProperty("Source", out var source) && source.GetString() is { } choice
            ? model with { TextEncoder = Encoders.EncoderLoader.Select(model.TextEncoder, choice) }
            : model;
    }

    private static Exception Inner(Exception e) => e.InnerException is { } inner && e is InvalidDataException ? inner : e;
}
