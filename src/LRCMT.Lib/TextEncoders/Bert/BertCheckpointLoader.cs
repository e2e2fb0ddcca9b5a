using LRCMT.Checkpoints;
using LRCMT.Errors;
using static TorchSharp.torch;
using LRCMT.TextEncoders;
using LRCMT.Formats.Pickle;
using LRCMT.Formats.Safetensors;

namespace LRCMT.TextEncoders.Bert;

/// <summary>Builds a <see cref="BertModel"/> from a Hugging Face checkpoint folder.</summary>
internal static class BertCheckpointLoader
{
    public const string ConfigFile = "config.json";
    public const string SafetensorsFileName = "model.safetensors";
    public const string PickleFileName = "pytorch_model.bin";

    /// <returns>The model (eval mode) and the checkpoint keys that were skipped as not belonging to the encoder.</returns>
    public static (BertModel Model, IReadOnlyList<string> Skipped) Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        var config = BertConfig.FromFile(Path.Combine(folder, ConfigFile));
        var weightsPath = WeightsFile(folder);

        var checkpoint = weightsPath.EndsWith(PickleFileName, StringComparison.Ordinal)
            ? TorchCheckpointFile.Load(weightsPath)
            : SafetensorsFile.Load(weightsPath);
        try
        {
            var (encoderWeights, skipped) = BertCheckpointKeys.Split(checkpoint);
            // A checkpoint saved from a model without pooler (add_pooling_layer=False) gives a model without pooler.
            var hasPooler = encoderWeights.Keys.Any(k => k.StartsWith(BertCheckpointKeys.PoolerPrefix, StringComparison.Ordinal));
            var model = CreateLoaded(config with { AddPoolingLayer = hasPooler }, encoderWeights, weightsPath);
            ModelSources.Record(model, folder);
            return (model, skipped);
        }
        finally
        {
            foreach (var tensor in checkpoint.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// A new model of <paramref name="config"/> filled from <paramref name="weights"/> (names and shapes checked first),
    /// in eval mode; the model is disposed if the weights do not fit. Shared by the folder and ONNX loaders.
    /// </summary>
    public static BertModel CreateLoaded(BertConfig config, IReadOnlyDictionary<string, Tensor> weights, string sourceName)
    {
        var model = new BertModel(config);
        try
        {
            StateDictLoader.Load(model, weights, sourceName, StateDictLoadOptions.Strict with { CastFloatingPoint = true });
        }
        catch
        {
            model.Dispose();
            throw;
        }

        model.eval();
        return model;
    }

    private static string WeightsFile(string folder)
    {
        var safetensors = Path.Combine(folder, SafetensorsFileName);
        if (File.Exists(safetensors)) return safetensors;
        var pickle = Path.Combine(folder, PickleFileName);
        if (File.Exists(pickle)) return pickle; // read through TorchCheckpointFile's allow-list unpickler
        throw new FileNotFoundException($"Checkpoint folder '{folder}' has neither {SafetensorsFileName} nor {PickleFileName}.", safetensors);
    }
}
