using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.Models;
using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>Builds the configured model around a loaded encoder, with the feature sizes of the data.</summary>
internal static class ModelFactory
{
    /// <summary>
    /// Seeds libtorch first, so the fusion module and the adapters start from the same weights in every variant
    /// of an ablation and in every repetition of a run.
    /// </summary>
    internal static LRCMTModel Build(RunSettings settings, EncoderLoader.LoadedEncoder encoder, ExperimentData data)
    {
        CpuThreads.Apply(settings.Threads);
        torch.manual_seed(settings.Training.Seed);
        var model = LrcmtBuilder.FromOptions(settings.Model)
            .WithTextEncoder(encoder.Model)
            .WithModalities(data.AcousticFeatures, data.VisualFeatures)
            .Build();
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
