using LRCMT.Cli.Settings;
using LRCMT.Data;
using LRCMT.Data.Mmsa;
using LRCMT.Data.Synthetic;
using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Cli.Data;

/// <summary>The three splits a run trains, selects and tests on, with the feature sizes the model must accept.</summary>
internal sealed record ExperimentData(
    IReadOnlyList<MultimodalSample> Train,
    IReadOnlyList<MultimodalSample> Valid,
    IReadOnlyList<MultimodalSample> Test,
    int AcousticFeatures,
    int VisualFeatures,
    MsaDataset MetricSet,
    string Description)
{
    /// <summary>The split called <paramref name="name"/> (train, valid or test).</summary>
    internal IReadOnlyList<MultimodalSample> Split(string name) => name switch
    {
        "train" => Train,
        "valid" => Valid,
        "test" => Test,
        _ => throw new CliException(ExitCodes.UsageError, $"Unknown split '{name}'; use train, valid or test."),
    };

    /// <summary>Generates the controlled benchmark or reads an MMSA features file.</summary>
    /// <exception cref="CliException">The file cannot be read as MMSA features (exit code <see cref="ExitCodes.DataError"/>).</exception>
    internal static ExperimentData Load(DataSettings settings)
    {
        if (settings.IsControlled)
        {
            var benchmark = ControlledBenchmark.Generate(settings.Controlled);
            var options = benchmark.Options;
            return new ExperimentData(benchmark.Train, benchmark.Valid, benchmark.Test,
                options.AcousticFeatures, options.VisualFeatures, MsaDataset.Mosi,
                $"controlled benchmark (seed {options.Seed}, {options.TrainCount}/{options.ValidCount}/{options.TestCount} samples, " +
                $"acoustic {options.AcousticLength}×{options.AcousticFeatures}, visual {options.VisualLength}×{options.VisualFeatures})");
        }

        string path = Path.GetFullPath(settings.Source);
        try
        {
            var file = MmsaFeatureFile.Load(path, new MmsaLoadOptions
            {
                TextSource = settings.UseTextBert ? MmsaTextSource.TextBert : MmsaTextSource.RawText,
            });
            var metricSet = settings.Dataset ?? (file.AcousticDim == 33 && file.VisualDim == 709
                ? throw new CliException(ExitCodes.DataError,
                    $"'{path}' has CH-SIMS's feature sizes (33 acoustic, 709 visual): say which dataset it is with --dataset sims " +
                    "(or --dataset mosi), so the metrics are the right ones.")
                : MsaDataset.Mosi);
            return new ExperimentData(file.Train.Samples, file.Valid.Samples, file.Test.Samples,
                file.AcousticDim, file.VisualDim, metricSet,
                $"{Path.GetFileName(path)} ({file.Train.Samples.Count}/{file.Valid.Samples.Count}/{file.Test.Samples.Count} samples, " +
                $"acoustic {file.AcousticDim}, visual {file.VisualDim} features)");
        }
        catch (Exception e) when (e is LrcmtException or IOException)
        {
            throw new CliException(ExitCodes.DataError, $"The data file could not be read: {e.Message}", e);
        }
    }
}
