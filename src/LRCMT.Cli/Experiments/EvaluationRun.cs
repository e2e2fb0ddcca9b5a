using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Runs;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>Loads a saved run's model (pretrained encoder + the run's saved model) and evaluates one split.</summary>
internal static class EvaluationRun
{
    internal static IReadOnlyDictionary<string, double> Execute(SavedRun run, string split, CliContext context)
    {
        var settings = run.Settings;
        var data = ExperimentData.Load(settings.Data);
        context.Console.MarkupLine($"Data: {Markup.Escape(data.Description)}");
        var encoder = EncoderLoader.Load(settings.Encoder);
        using var model = run.ModelFolder is { } folder ? ModelFactory.Load(settings, folder, encoder, data) : LegacyRun.Load(run, encoder, data);

        var classes = ModelFactory.ClassesFor(model.Architecture.Head, model.Architecture.Classes, data);
        var collator = new MultimodalCollator(encoder.Tokenizer, settings.Data.MaxTextTokens, encoder.Tokenizer.PaddingTokenId, classes);
        var loader = new MultimodalDataLoader(data.Split(split), collator, settings.Data.BatchSize * 2, shuffle: false, seed: 0);
        try
        {
            return (classes is null ? Trainer.Evaluate(model, loader, data.MetricSet) : Trainer.Evaluate(model, loader, classes)).Values;
        }
        catch (InvalidConfigurationException e)
        {
            throw new CliException(ExitCodes.ConfigurationError, $"The run's classification head cannot be scored on this data: {e.Message}", e);
        }
    }
}
