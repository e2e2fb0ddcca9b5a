using LRCMT.Errors;
using static TorchSharp.torch;
using LRCMT.TextEncoders;
using LRCMT.Formats.Pickle;
using LRCMT.Formats.Safetensors;
using LRCMT.Configuration;

namespace LRCMT.TextEncoders.Bert;

/// <summary>Builds a <see cref="BertModel"/> from a Hugging Face checkpoint folder.</summary>
internal static class BertCheckpointLoader
{
    public const string ConfigFile = "config.json";
    public const string SafetensorsFileName = "model.safetensors";
    public const string PickleFileName = "pytorch_model.bin";

    /// <returns>The model (eval mode) and the checkpoint keys that were skipped as not belonging to the encoder.</returns>
    public static (BertModel Model, IReadOnlyList<string> Skipped) Load(string folder, BaseDType dtype = BaseDType.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        SettingRules.ThrowIf("base dtype", SettingRules.Defined("dtype", dtype));
        var config = BertConfig.FromFile(Path.Combine(folder, ConfigFile));
        var weightsPath = WeightsFile(folder);
        var (model, skipped) = weightsPath.EndsWith(PickleFileName, StringComparison.Ordinal)
            ? LoadFromMemory(TorchCheckpointFile.Load(weightsPath), config, weightsPath, dtype)
            : LoadSafetensors(weightsPath, BertCheckpointKeys.TaskModelPrefix, hasPooler => new BertModel(config with { AddPoolingLayer = hasPooler }, BaseLoading.Meta), dtype);
        ModelSources.Record(model, folder);
        return (model, skipped);
    }

    /// <summary>
    /// Builds the encoder from a safetensors file tensor by tensor: each weight is read, put in its dtype and placed,
    /// so the file is never in memory as a whole and a bf16 or int8 base never exists in float32.
    /// </summary>
    internal static (TModel Model, IReadOnlyList<string> Skipped) LoadSafetensors<TModel>(string weightsPath, string taskModelPrefix,
        Func<bool, TModel> createOnMeta, BaseDType dtype) where TModel : TextEncoder
    {
        var header = SafetensorsFile.ReadHeader(weightsPath);
        var (names, skipped) = BertCheckpointKeys.SplitNames(header.Entries.Keys, taskModelPrefix);
        // A checkpoint saved from a model without pooler (add_pooling_layer=False) gives a model without pooler.
        var hasPooler = names.Keys.Any(k => k.StartsWith(BertCheckpointKeys.PoolerPrefix, StringComparison.Ordinal));
        using var stream = LRCMT.IO.InputFile.OpenRead(weightsPath);
        var source = new BaseLoading.Source(
            names.ToDictionary(n => n.Key, n => (header.Entries[n.Value].Shape, header.Entries[n.Value].DType)),
            (key, first, destination) => SafetensorsFile.ReadElements(stream, header, header.Entries[names[key]], first, destination), weightsPath);
        return (Filled(createOnMeta(hasPooler), source, dtype), skipped);
    }

    private static (BertModel, IReadOnlyList<string>) LoadFromMemory(Dictionary<string, Tensor> checkpoint, BertConfig config, string weightsPath, BaseDType dtype)
    {
        try
        {
            var (encoderWeights, skipped) = BertCheckpointKeys.Split(checkpoint);
            var hasPooler = encoderWeights.Keys.Any(k => k.StartsWith(BertCheckpointKeys.PoolerPrefix, StringComparison.Ordinal));
            return (CreateLoaded(config with { AddPoolingLayer = hasPooler }, encoderWeights, weightsPath, dtype), skipped);
        }
        finally
        {
            foreach (var tensor in checkpoint.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// A new model of <paramref name="config"/> filled from <paramref name="weights"/> (names and shapes checked first),
    /// in eval mode and in <paramref name="dtype"/>. Shared by the folder and ONNX loaders.
    /// </summary>
    public static BertModel CreateLoaded(BertConfig config, IReadOnlyDictionary<string, Tensor> weights, string sourceName, BaseDType dtype = BaseDType.Float32)
        => Filled(new BertModel(config, BaseLoading.Meta), BaseLoading.Source.Of(weights, sourceName), dtype);

    /// <summary>Fills a model built on the meta device and puts it in eval mode; disposes it if the weights do not fit.</summary>
    internal static TModel Filled<TModel>(TModel model, BaseLoading.Source source, BaseDType dtype) where TModel : TextEncoder
    {
        try
        {
            BaseLoading.Fill(model, source, dtype);
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
