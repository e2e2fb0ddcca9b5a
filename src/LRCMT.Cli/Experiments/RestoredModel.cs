using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Runs;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Models;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>A saved run's model rebuilt (pretrained encoder + the run's trainable weights) with the data to run it on.</summary>
internal sealed class RestoredModel : IDisposable
{
    private RestoredModel(LRCMTModel model, ExperimentData data, EncoderLoader.LoadedEncoder encoder, int batchSize, int maxTokens)
    {
        Model = model;
        Data = data;
        Encoder = encoder;
        _batchSize = batchSize;
        _maxTokens = maxTokens;
    }

    private readonly int _batchSize;
    private readonly int _maxTokens;

    internal LRCMTModel Model { get; }
    internal ExperimentData Data { get; }
    internal EncoderLoader.LoadedEncoder Encoder { get; }

    /// <summary>Batches of one split, in file order.</summary>
    internal MultimodalDataLoader Loader(string split) =>
        new(Data.Split(split), new MultimodalCollator(Encoder.Tokenizer, _maxTokens, Encoder.Tokenizer.PaddingTokenId), _batchSize, shuffle: false, seed: 0);

    /// <summary>Loads the data and encoder (batches of <paramref name="batchSize"/>, default twice the training batch) of <paramref name="run"/>'s settings and restores its weights.</summary>
    internal static RestoredModel Open(SavedRun run, CliContext context, int? batchSize = null)
    {
        var settings = run.Settings;
        var data = ExperimentData.Load(settings.Data);
        context.Console.MarkupLine($"Data: {Markup.Escape(data.Description)}");
        var encoder = EncoderLoader.Load(settings.Encoder);
        var model = ModelFactory.Build(settings, encoder, data);

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        var weights = SafetensorsFile.Load(run.TrainableWeights);
        try
        {
            // The file holds exactly what trained; everything else comes from the pretrained encoder.
            StateDictLoader.Load(model, weights, run.TrainableWeights, new StateDictLoadOptions(key => !trainable.Contains(key), _ => false));
        }
        catch (CheckpointMismatchException e)
        {
            model.Dispose();
            throw new CliException(ExitCodes.RunError,
                $"The run's weights do not fit the model rebuilt for this data (are the feature sizes the same as in training?): {e.Message}", e);
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
        return new RestoredModel(model, data, encoder, batchSize ?? settings.Data.BatchSize * 2, settings.Data.MaxTextTokens);
    }

    public void Dispose() => Model.Dispose();
}
