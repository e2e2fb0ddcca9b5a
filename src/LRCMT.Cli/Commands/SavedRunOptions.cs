using System.CommandLine;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.Evaluation;

namespace LRCMT.Cli.Commands;

/// <summary>
/// The run argument and options of the commands that use a saved run (<c>eval</c>, <c>predict</c>): which data and
/// split, and where and how fast to run. The model settings always come from the run's config.json.
/// </summary>
internal sealed class SavedRunOptions
{
    internal Argument<DirectoryInfo> Run { get; } = new("run") { Description = "a run folder written by train" };
    internal Option<string?> Data { get; } = new("--data", "-d")
    {
        Description = "MMSA features file (.pkl), or 'controlled' for the built-in benchmark (default: the data the run was trained on)",
    };
    internal Option<MsaDataset?> Dataset { get; } = OptionValues.Name<MsaDataset>("--dataset",
        "which MMSA dataset --data holds, for its metrics (default: the run's)");
    internal Option<string?> Split { get; } = OptionValues.OneOf("--split", "which split (default: test)", "train", "valid", "test");
    internal Option<string?> Device { get; } = SettingsOptions.DeviceOption();
    internal Option<int?> Threads { get; } = SettingsOptions.ThreadsOption();
    internal Option<int?> BatchSize { get; } = OptionValues.Int("--batch-size", "samples per forward pass (default: twice the run's training batch)", SettingRules.BatchSize);

    internal void AddTo(Command command)
    {
        command.Arguments.Add(Run);
        foreach (var option in new Option[] { Data, Dataset, Split, Device, Threads, BatchSize }) command.Options.Add(option);
    }

    /// <summary>Opens the run and applies the options to its settings; every check runs before anything loads.</summary>
    internal SavedRun Open(ParseResult parse) => Open(parse, out _);

    /// <inheritdoc cref="Open(ParseResult)"/>
    /// <param name="batchSize">--batch-size, or null for the default (twice the training batch: no gradients are kept).</param>
    internal SavedRun Open(ParseResult parse, out int? batchSize)
    {
        batchSize = parse.GetValue(BatchSize);
        var saved = SavedRun.Open(parse.GetValue(Run)!.FullName);
        var settings = saved.Settings;
        var data = settings.Data;
        if (parse.GetValue(Data) is { } source)
        {
            data.Source = source;
            // A dataset recorded for the training file says nothing about another file.
            data.Dataset = null;
        }
        else if (!data.IsControlled && !File.Exists(Path.GetFullPath(data.Source)))
        {
            throw new CliException(ExitCodes.DataError,
                $"The run was trained on '{data.Source}', which is not there now; give the features file with --data " +
                "(eval never falls back to the generated benchmark for a run trained on a file).");
        }
        if (parse.GetValue(Dataset) is { } dataset) data.Dataset = dataset;
        if (parse.GetValue(Device) is { } device) settings.Device = device;
        if (parse.GetValue(Threads) is { } threads) settings.Threads = threads;
        RunSettingsFile.Validate(settings);
        Preflight.CheckData(settings.Data);
        Preflight.CheckEncoder(settings.Model.TextEncoder);
        Preflight.CheckDevice(settings.Device);
        return saved;
    }
}
