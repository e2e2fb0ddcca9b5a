using System.Diagnostics;
using LRCMT.Cli.Data;
using LRCMT.Cli.Encoders;
using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using LRCMT.Models;
using LRCMT.Training;
using Spectre.Console;

namespace LRCMT.Cli.Experiments;

/// <summary>One training run: data → encoder → model → trainer → test metrics, with every result written to a folder.</summary>
internal static class TrainingRun
{
    /// <summary>
    /// A resumed run: the settings it trains with now (<paramref name="Settings"/>: its own, with more epochs, another
    /// device or threads), what its config.json records (<paramref name="Record"/>: its settings as started, this
    /// resumption last in <see cref="RunSettings.Resumptions"/>), and the checkpoint to continue from (null: the run
    /// stopped before its first one and starts again from epoch 1).
    /// </summary>
    internal sealed record Continuation(RunSettings Settings, RunSettings Record, string? Checkpoint);

    /// <summary>Trains with <paramref name="settings"/> and writes the run's files into <paramref name="folder"/>.</summary>
    internal static TrainingOutcome Execute(RunSettings settings, RunFolder folder, CliContext context, Continuation? continuation = null) =>
        Execute(settings, folder.Staging, context, title: continuation is null ? "Training" : "Resuming", continuation);

    /// <summary>Trains and writes the run's files into <paramref name="directory"/> (which must exist).</summary>
    /// <param name="settings">What to train with.</param>
    /// <param name="directory">Where the run's files go.</param>
    /// <param name="context">The console and the Ctrl+C token.</param>
    /// <param name="title">What the console calls this training.</param>
    /// <param name="continuation">The run this training continues, or null to start afresh.</param>
    internal static TrainingOutcome Execute(RunSettings settings, string directory, CliContext context, string title, Continuation? continuation = null)
    {
        var clock = Stopwatch.StartNew();
        var console = context.Console;
        // What config.json says: the settings as the run started, with any resumption recorded.
        var record = continuation?.Record ?? settings;
        var resumption = continuation is null ? null : record.Resumptions[^1];
        string? resumeFrom = continuation?.Checkpoint;
        // First of all, so that a run killed at any later moment can be found and resumed (train --resume <name>).
        RunSettingsFile.Save(record, Path.Combine(directory, RunFiles.Configuration));
        var data = ExperimentData.Load(settings.Data);
        console.MarkupLine($"Data: {Markup.Escape(data.Description)}");
        var encoder = EncoderLoader.Load(settings.Model.TextEncoder);
        console.MarkupLine($"Encoder: {Markup.Escape(encoder.Description)}");

        using var model = ModelFactory.Build(settings, encoder, data);
        var environment = RunEnvironment.Capture(settings.Training.Seed, settings.Threads);
        if (resumption is not null) resumption.Environment = environment;
        else record.Environment = environment;
        string variant = RunSettings.VariantName(settings.Model);
        var report = model.GetParameterReport();
        // What the numbers depend on first; the PEFT line on its own, so it never wraps inside a number at 80 columns.
        console.MarkupLine(Markup.Escape(environment.Summary(withSeed: true)));
        string checkpoints = Path.Combine(directory, RunFiles.TrainerCheckpoint);
        var options = TrainingOptionsFor(settings.Training, data, model) with { CheckpointDirectory = checkpoints };
        console.MarkupLine(Markup.Escape(Selection(options)));
        console.MarkupLine($"{Markup.Escape(title)} {Markup.Escape(variant)}:");
        console.MarkupLine($"  {Markup.Escape(report.ToString())}");

        bool classifier = ModelFactory.IsClassifier(model);
        var collator = new MultimodalCollator(encoder.Tokenizer, settings.Data.MaxTextTokens, encoder.Tokenizer.PaddingTokenId);
        int seed = (int)settings.Training.Seed;
        var train = new MultimodalDataLoader(data.Train, collator, settings.Data.BatchSize, shuffle: true, seed: seed);
        var valid = new MultimodalDataLoader(data.Valid, collator, settings.Data.BatchSize * 2, shuffle: false, seed: seed);
        var test = new MultimodalDataLoader(data.Test, collator, settings.Data.BatchSize * 2, shuffle: false, seed: seed);

        if (resumeFrom is not null)
        {
            // The trainer reads its best-epoch weights from the checkpoint folder too: resume from a copy of it (the
            // finished files only, not the temporary file of a write a kill interrupted).
            Directory.CreateDirectory(checkpoints);
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(resumeFrom)!, "*.safetensors").Where(f => !Path.GetFileName(f).StartsWith('.')))
                File.Copy(file, Path.Combine(checkpoints, Path.GetFileName(file)), overwrite: true);
            resumeFrom = Path.Combine(checkpoints, Path.GetFileName(resumeFrom));
        }
        // Again with the environment, before the first checkpoint: --resume needs nothing else from the folder.
        RunSettingsFile.Save(record, Path.Combine(directory, RunFiles.Configuration));
        var curves = new TrainingCurves(options.EarlyStoppingMetric, $"{variant}, seed {settings.Training.Seed}");
        var trained = new EpochCounter();
        var result = TrainingProgressView.Run(console, title, options.Epochs * train.BatchCount, view =>
        {
            var progress = trained.Around(view);
            try
            {
                return resumeFrom is null
                    ? new Trainer(options).Fit(model, train, valid, progress, context.Cancellation)
                    : new Trainer(options).Resume(model, train, valid, resumeFrom, progress, context.Cancellation);
            }
            catch (Exception e) when (resumeFrom is not null && e is CheckpointMismatchException or CorruptFileException)
            {
                throw new CliException(ExitCodes.RunError, $"The run's checkpoint cannot be resumed: {e.Message}", e);
            }
            catch (NonFiniteLossException e)
            {
                throw new CliException(ExitCodes.TrainingDiverged, e.Message, e); // the run folder keeps the checkpoint visibly
            }
        });
        foreach (var epoch in result.History)
            curves.Add(new(epoch.Epoch + 1, epoch.TrainLoss, epoch.ValidationLoss,
                options.EarlyStoppingMetric == TrainerOptions.LossMetric ? epoch.ValidationLoss : epoch.Validation[options.EarlyStoppingMetric]));

        bool interrupted = result.StopReason == TrainingStopReason.Cancelled;
        // Per-sample scores (for the ablation statistics) exist for a regression head; a classification head is scored on its classes.
        var testPredictions = interrupted || classifier ? null : Trainer.Predict(model, test);
        IReadOnlyDictionary<string, double>? testMetrics = interrupted ? null
            : classifier ? Trainer.Evaluate(model, test, data.MetricSet).Values : testPredictions!.Metrics(data.MetricSet).Values;
        IReadOnlyDictionary<string, double>? validMetrics = result.BestEpoch >= 0
            ? result.History.First(h => h.Epoch == result.BestEpoch).Validation.Values
            : null;

        curves.BestEpoch = result.BestEpoch >= 0 ? result.BestEpoch + 1 : null;
        // Selected on the loss, there is no test metric of that name (the test split is scored on the MMSA metrics).
        curves.TestMetric = testMetrics is not null && testMetrics.TryGetValue(options.EarlyStoppingMetric, out double testValue) ? testValue : null;
        if (resumption is not null) resumption.FromEpoch = result.History.Count - trained.Count;
        WriteFiles(directory, Resolved(record, options), model, curves, testMetrics, validMetrics, interrupted);
        return new TrainingOutcome(testMetrics, validMetrics, report.ToString(),
            report.TrainablePercent / 100, result.EpochsCompleted, interrupted, clock.Elapsed,
            settings.Training.Seed, data.MetricSet, testPredictions);
    }

    /// <summary>
    /// The trainer options of this data and model: the data's metric set and, for a classification head (whose classes
    /// the trainer reads from the model), selection on its accuracy unless a classification metric or the loss was chosen.
    /// </summary>
    internal static TrainerOptions TrainingOptionsFor(TrainerOptions configured, ExperimentData data, SentimentModel model)
    {
        var options = configured with { Dataset = data.MetricSet };
        if (!ModelFactory.IsClassifier(model)) return options;
        var metrics = new SentimentClasses(data.MetricSet, model.Options.Head.Classes).MetricNames;
        bool metricFits = options.EarlyStoppingMetric == TrainerOptions.LossMetric || metrics.Contains(options.EarlyStoppingMetric);
        return metricFits ? options : options with { EarlyStoppingMetric = metrics[0] };
    }

    /// <summary>
    /// How the run picks the epoch it keeps, as the header says it: the validation metric, the early stopping, and
    /// whether that is MMSA's protocol (<c>--protocol mmsa</c>: options <see cref="TrainerOptions.WithMmsaProtocol"/> leaves as they are).
    /// </summary>
    internal static string Selection(TrainerOptions options) =>
        $"Selection: best validation {options.EarlyStoppingMetric}, " +
        (options.Patience > 0 ? $"patience {options.Patience}" : "no early stopping") +
        (options == options.WithMmsaProtocol() ? " (MMSA's protocol)" : "");

    /// <summary>
    /// The settings as the run used them: the trainer options (the model's description is the saved model's, which
    /// config.json points to), with the epoch budget the run started with (a resumption records any other).
    /// </summary>
    private static RunSettings Resolved(RunSettings record, TrainerOptions options)
    {
        var resolved = RunSettingsFile.Clone(record);
        resolved.Training = options with { CheckpointDirectory = null, Epochs = record.Training.Epochs };
        return resolved;
    }

    /// <summary>Counts the epochs this process completes (a resumed run's history also holds those before).</summary>
    private sealed class EpochCounter
    {
        internal int Count { get; private set; }

        internal IProgress<TrainingProgress> Around(IProgress<TrainingProgress> inner) => new Counting(this, inner);

        private sealed class Counting(EpochCounter counter, IProgress<TrainingProgress> inner) : IProgress<TrainingProgress>
        {
            public void Report(TrainingProgress value)
            {
                if (value.Event == TrainingEvent.EpochCompleted) counter.Count++;
                inner.Report(value);
            }
        }
    }

    private static void WriteFiles(string directory, RunSettings settings, SentimentModel model,
        TrainingCurves curves, IReadOnlyDictionary<string, double>? test, IReadOnlyDictionary<string, double>? valid, bool interrupted)
    {
        string modelFolder = Path.Combine(directory, RunFiles.Model);
        model.Save(modelFolder);
        // The model's description lives once, in model/ (its LoRA configuration in model/adapter/); config.json points to it.
        RunSettingsFile.Save(settings, Path.Combine(directory, RunFiles.Configuration), modelFolder);
        MetricsFile.Save(Path.Combine(directory, RunFiles.Metrics), test, valid, curves, interrupted);
        TrainingCurvesPlot.Save(curves, Path.Combine(directory, RunFiles.Curves));
    }
}
