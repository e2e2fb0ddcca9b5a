using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Runs;
using LRCMT.Data;
using LRCMT.Models;
using Spectre.Console;
using LRCMT.Configuration;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// A saved run's model loaded (pretrained encoder + the run's <c>model/</c> folder via <c>SentimentModel.Load</c>, any architecture, or an
/// earlier release's <c>trainable.safetensors</c>) with the data to run it on.
/// </summary>
internal sealed class RestoredModel : IDisposable
{
    private RestoredModel(SentimentModel model, ExperimentData data, EncoderLoader.LoadedEncoder encoder, int batchSize, int maxTokens)
    {
        Model = model;
        Data = data;
        Encoder = encoder;
        IsClassifier = ModelFactory.IsClassifier(model);
        _batchSize = batchSize;
        _maxTokens = maxTokens;
    }

    private readonly int _batchSize;
    private readonly int _maxTokens;

    internal SentimentModel Model { get; }

    /// <summary>The model as an LRCMT model, for what only LRCMT supports (ONNX export).</summary>
    /// <exception cref="CliException">The run trained a baseline.</exception>
    internal LRCMTModel Lrcmt(string what) => Model as LRCMTModel ?? throw new CliException(ExitCodes.ConfigurationError,
        $"{what} needs an LRCMT model, but this run trained {Model.Options.Architecture}.");
    internal ExperimentData Data { get; }
    internal EncoderLoader.LoadedEncoder Encoder { get; }

    /// <summary>Whether the model has a classification head (its classes are the model's; labels stay sentiment scores).</summary>
    internal bool IsClassifier { get; }

    /// <summary>Batches of one split, in file order.</summary>
    internal MultimodalDataLoader Loader(string split) =>
        new(Data.Split(split), new MultimodalCollator(Encoder.Tokenizer, _maxTokens, Encoder.Tokenizer.PaddingTokenId), _batchSize, shuffle: false, seed: 0);

    /// <summary>Loads the data and encoder (batches of <paramref name="batchSize"/>, default twice the training batch) of <paramref name="run"/>'s settings and its saved model.</summary>
    internal static RestoredModel Open(SavedRun run, CliContext context, int? batchSize = null)
    {
        var settings = run.Settings;
        var data = ExperimentData.Load(settings.Data);
        context.Console.MarkupLine($"Data: {Markup.Escape(data.Description)}");
        var encoder = EncoderLoader.Load(settings.Model.TextEncoder);
        var model = run.ModelFolder is { } folder ? ModelFactory.Load(settings, folder, encoder, data) : LegacyRun.Load(run, encoder, data);
        context.Console.MarkupLine(Markup.Escape(RunEnvironment.Capture(settings.Training.Seed, settings.Threads).Summary(withSeed: false)));
        // Twice the training batch by default (no gradients are kept), within the batch-size rule.
        int batch = batchSize ?? (int)Math.Min(2L * settings.Data.BatchSize, Configuration.SettingRules.MaxBatchSize);
        return new RestoredModel(model, data, encoder, batch, settings.Data.MaxTextTokens);
    }

    public void Dispose() => Model.Dispose();
}
