using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Models;
using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>Builds the configured model around a loaded encoder with the feature sizes of the data, or loads a saved one.</summary>
internal static class ModelFactory
{
    /// <summary>
    /// Seeds libtorch first, so the fusion module and the adapters start from the same weights in every variant
    /// of an ablation and in every repetition of a run.
    /// </summary>
    internal static SentimentModel Build(RunSettings settings, EncoderLoader.LoadedEncoder encoder, ExperimentData data)
    {
        CpuThreads.Apply(settings.Threads);
        torch.manual_seed(settings.Training.Seed);
        // The description names the encoder's source (the packaged MiniLM resolved to its file), so the model records it.
        var model = LrcmtBuilder.FromOptions(settings.Model with { TextEncoder = encoder.Source })
            .WithTextEncoder(encoder.Model)
            .WithModalities(data.AcousticFeatures, data.VisualFeatures)
            .BuildModel();
        return OnDevice(model, settings);
    }

    /// <summary>Loads the model a run saved (<c>SentimentModel.Load</c>, any architecture) onto the run's encoder, checking that it fits the data.</summary>
    /// <exception cref="CliException">The encoder is not the one the run trained on, the files do not fit, or the data has other feature sizes.</exception>
    internal static SentimentModel Load(RunSettings settings, string folder, EncoderLoader.LoadedEncoder encoder, ExperimentData data)
    {
        CpuThreads.Apply(settings.Threads);
        SentimentModel model;
        try
        {
            model = SentimentModel.Load(folder, encoder.Model);
        }
        catch (BaseEncoderMismatchException e)
        {
            throw new CliException(ExitCodes.RunError, $"The encoder '{encoder.Description}' is not the one this run was trained on: {e.Message}", e);
        }
        catch (Exception e) when (e is LrcmtException or FileNotFoundException)
        {
            throw new CliException(ExitCodes.RunError, $"The saved model in '{folder}' could not be loaded: {e.Message}", e);
        }
        var a = model.Options.Modalities;
        if (a.AcousticFeatures != data.AcousticFeatures || a.VisualFeatures != data.VisualFeatures)
        {
            model.Dispose();
            throw new CliException(ExitCodes.RunError,
                $"The run's model takes {a.AcousticFeatures} acoustic and {a.VisualFeatures} visual features, but {data.Description} has " +
                $"{data.AcousticFeatures} and {data.VisualFeatures}; evaluate it on data with the feature sizes it was trained on.");
        }
        return OnDevice(model, settings);
    }

    /// <summary>Whether the model predicts classes (its head's classes are read by the trainer from the model).</summary>
    internal static bool IsClassifier(SentimentModel model) => model.Options.Head.Kind == HeadKind.Classification;

    private static T OnDevice<T>(T model, RunSettings settings) where T : SentimentModel
    {
        if (settings.Device == "cuda")
        {
            if (!torch.cuda.is_available())
            {
                model.Dispose();
                throw new CliException(ExitCodes.ConfigurationError,
                    "--device cuda needs a CUDA build and a GPU: build with -p:TorchBackend=cuda-linux (or cuda-windows).");
            }
            model.to(torch.CUDA);
        }
        return model;
    }
}
