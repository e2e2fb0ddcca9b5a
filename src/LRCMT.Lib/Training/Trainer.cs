using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// Trains any <c>nn.Module&lt;MultimodalBatch, Tensor&gt;</c> (e.g. <c>LRCMTModel</c>) that returns one regression
/// score per sample (L1 or MSE loss) or, for a <c>SentimentModel</c> (LRCMT or a baseline) with a classification head, one logit per class of
/// the head (cross-entropy; the classes are read from the model):
/// AdamW with one learning rate per <see cref="ParameterGroup"/> (adapters found by type, optionally the encoder, the
/// rest), warm-up then linear/cosine decay, gradient clipping, evaluation with <see cref="MsaMetrics"/> after each
/// epoch, early stopping, and checkpoints a run can resume from exactly (same weights as an uninterrupted run on the CPU).
/// </summary>
public sealed class Trainer
{
    /// <summary>File name of the resume checkpoint inside <see cref="TrainerOptions.CheckpointDirectory"/>.</summary>
    public const string LastCheckpointName = "last.safetensors";

    /// <summary>File name of the best epoch's trainable weights inside <see cref="TrainerOptions.CheckpointDirectory"/>.</summary>
    public const string BestCheckpointName = "best.safetensors";

    private readonly TrainerOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a trainer; the options are validated here.</summary>
    /// <exception cref="InvalidConfigurationException">An option is out of range (every problem is listed).</exception>
    public Trainer(TrainerOptions options, ILogger<Trainer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// The optimizer groups this trainer's options give <paramref name="model"/> — each with its parameters and base
    /// learning rate — for a TorchSharp optimizer of your own (e.g. LoRA+ with <see cref="TrainerOptions.LoraPlusRatio"/>):
    /// <c>new AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr: g.LearningRate)))</c>. Groups are found by
    /// the model's structure (<see cref="ParameterGroup"/>); empty ones are left out. Only learning rates come from the
    /// options; weight decay and the schedule are the optimizer's.
    /// </summary>
    /// <param name="model">Any model; its parameters with <c>requires_grad</c> are grouped.</param>
    /// <exception cref="InvalidConfigurationException">The model has no trainable parameter.</exception>
    public IReadOnlyList<(ParameterGroup Group, IReadOnlyList<Parameter> Parameters, double LearningRate)> ParameterGroupsOf(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ParameterGroups.Of(model, _options).Groups();
    }

    /// <summary>Trains from the model's current weights. Seeds libtorch's generator with <see cref="TrainerOptions.Seed"/> first.</summary>
    /// <param name="model">The model; its parameters with <c>requires_grad</c> are trained, on the device they live on.</param>
    /// <param name="train">Training batches (usually shuffled).</param>
    /// <param name="valid">Validation batches, evaluated after every epoch.</param>
    /// <param name="progress">Receives step, epoch and checkpoint events on the training thread.</param>
    /// <param name="cancellationToken">Stops after the step in progress; the resume checkpoint is then written (if a folder is set).</param>
    /// <exception cref="NonFiniteLossException">The loss became NaN/Inf; the previous checkpoint is left intact.</exception>
    public TrainingResult Fit(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader train, MultimodalDataLoader valid,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
        => Run(model, train, valid, checkpoint: null, progress, cancellationToken);

    /// <summary>Continues the run saved in <paramref name="checkpoint"/> (a <see cref="LastCheckpointName"/> file) with the same options and data.</summary>
    /// <inheritdoc cref="Fit"/>
    /// <exception cref="CheckpointMismatchException">The checkpoint's trainable parameters differ from the model's.</exception>
    /// <exception cref="CorruptFileException">The file is not a trainer checkpoint.</exception>
    public TrainingResult Resume(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader train, MultimodalDataLoader valid, string checkpoint,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpoint);
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"Checkpoint '{checkpoint}' does not exist.", checkpoint);
        return Run(model, train, valid, checkpoint, progress, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="loader"/> without gradients and computes MMSA's metrics of
    /// <paramref name="dataset"/>: the regression metrics, or, for a <c>SentimentModel</c> with a classification head, the
    /// classification metrics of its classes (the labels' sentiment scores mapped by the dataset's convention).
    /// </summary>
    /// <exception cref="InvalidConfigurationException">The dataset has no MMSA convention for the head's class count.</exception>
    public static MetricResults Evaluate(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader loader, MsaDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        return EvaluationLoop.Run(model, loader, TrainingObjective.For(model, dataset)).Metrics;
    }

    /// <summary>
    /// Runs <paramref name="model"/> without gradients over every batch of <paramref name="loader"/> (in eval mode, restored
    /// after) and keeps each sample's regression score with its truth, in the loader's order: what a paired comparison of
    /// two models on the same samples needs.
    /// </summary>
    /// <exception cref="InvalidInputException">A batch has no labels.</exception>
    /// <exception cref="ShapeMismatchException">The model does not return one score per sample.</exception>
    public static SamplePredictions Predict(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        var predictions = new List<float>(loader.SampleCount);
        var truths = new List<float>(loader.SampleCount);
        EvaluationLoop.ForEachBatch(model, loader, (batch, input, labels) =>
        {
            var output = model.call(input);
            if (output.numel() != batch.Size)
                throw new ShapeMismatchException("model output", $"[{batch.Size}] (one regression score per sample)", output.shape);
            predictions.AddRange(output.reshape(-1).to(ScalarType.Float32).cpu().data<float>().ToArray());
            truths.AddRange(labels.to(ScalarType.Float32).data<float>().ToArray());
        });
        return new SamplePredictions(predictions.ToArray(), truths.ToArray());
    }

    private TrainingResult Run(nn.Module<MultimodalBatch, Tensor> model, MultimodalDataLoader train, MultimodalDataLoader valid,
        string? checkpoint, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(valid);
        var objective = TrainingObjective.For(model, _options);
        var groups = ParameterGroups.Of(model, _options);
        // Training where the encoder's own weights train (the heap grew without bound there); otherwise every block from
        // the heap, kept for the next step (the steps repeat one pattern, and a block above glibc's 32 MiB ceiling, such
        // as the gradient of a large fusion weight, would be mapped and zero-filled again every step); unless
        // TrainerOptions.LimitNativeHeapGrowth says otherwise.
        NativeHeap.TrainingStarted(_options.LimitNativeHeapGrowth switch
        {
            true => HeapPolicy.Training,
            false => null,
            null => groups.EncoderTrains ? HeapPolicy.Training : HeapPolicy.Inference,
        });
        var trainable = groups.Trainable;
        using var optimizer = groups.CreateAdamW();
        long totalSteps = (long)_options.Epochs * train.BatchCount;
        var schedule = new LearningRateSchedule(_options.Decay, (long)(_options.WarmupRatio * totalSteps), totalSteps);
        var device = trainable[0].Param.device;
        using var best = new BestWeights(_options.CheckpointDirectory is { } d ? Path.Combine(d, BestCheckpointName) : null);

        TrainerState state;
        if (checkpoint is null)
        {
            torch.manual_seed(_options.Seed);
            state = new TrainerState();
        }
        else
        {
            state = TrainerCheckpoint.Load(checkpoint, trainable, optimizer);
            best.LoadIfSaved(trainable, required: state.BestEpoch >= 0 && _options.RestoreBestWeights,
                fallbackPath: Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, BestCheckpointName));
            _logger.LogInformation("Resuming from {Checkpoint} at epoch {Epoch}, step {Step}", checkpoint, state.Epoch + 1, state.Step);
        }

        var stopReason = TrainingStopReason.Completed;
        model.train();
        while (state.Epoch < _options.Epochs && stopReason == TrainingStopReason.Completed)
        {
            foreach (var batch in train.Epoch(state.Epoch, state.BatchInEpoch))
            {
                double loss;
                using (batch) loss = Step(model, objective, batch, device, optimizer, trainable, schedule.Factor(state.Step), state);
                state.Step++;
                state.BatchInEpoch++;
                state.EpochLossSum += loss;
                state.EpochLossCount++;
                progress?.Report(new TrainingProgress(TrainingEvent.StepCompleted, state.Epoch, state.Step, totalSteps, loss, groups.Rates(schedule.Factor(state.Step - 1))));
                if (cancellationToken.IsCancellationRequested) break;
            }

            if (cancellationToken.IsCancellationRequested && state.BatchInEpoch < train.BatchCount)
            {
                stopReason = TrainingStopReason.Cancelled;
                break;
            }
            stopReason = FinishEpoch(model, objective, valid, optimizer, groups, state, best, schedule, totalSteps, progress);
            if (stopReason == TrainingStopReason.Completed && cancellationToken.IsCancellationRequested && state.Epoch < _options.Epochs)
                stopReason = TrainingStopReason.Cancelled;
        }

        if (stopReason == TrainingStopReason.Cancelled)
        {
            SaveLast(optimizer, groups, state, schedule, totalSteps, progress);
            _logger.LogWarning("Training cancelled at epoch {Epoch}, step {Step}", state.Epoch + 1, state.Step);
        }
        else if (_options.RestoreBestWeights) best.Restore(trainable);
        model.eval();
        return new TrainingResult(stopReason, state.History.Count, state.Step, state.BestEpoch, state.BestValue, state.History.ToList());
    }

    /// <summary>One optimizer step; every temporary tensor dies with the step's dispose scope.</summary>
    private double Step(nn.Module<MultimodalBatch, Tensor> model, TrainingObjective objective, MultimodalBatch batch, Device device, optim.Optimizer optimizer,
        IReadOnlyList<(string Name, Parameter Param)> trainable, double lrFactor, TrainerState state)
    {
        using var scope = NewDisposeScope();
        foreach (var group in optimizer.ParamGroups) group.LearningRate = group.InitialLearningRate * lrFactor;
        optimizer.zero_grad();

        var input = device.type == DeviceType.CPU ? batch : batch.To(device);
        var outputs = objective.Outputs(model, input);
        var labels = input.Labels ?? throw new InvalidInputException("training batch", "it has no labels.");
        var loss = objective.Loss(outputs, labels, "training labels");
        double value = loss.item<float>();
        if (!double.IsFinite(value))
        {
            _logger.LogError("Non-finite loss {Loss} at epoch {Epoch}, step {Step}", value, state.Epoch + 1, state.Step);
            throw new NonFiniteLossException(state.Epoch, state.Step, value, batch.Ids);
        }
        loss.backward();
        if (_options.MaxGradientNorm > 0)
            GradientClipping.ClipByGlobalNorm(trainable.Select(t => t.Param), _options.MaxGradientNorm);
        optimizer.step();
        if (!ReferenceEquals(input, batch)) input.Dispose();
        return value;
    }

    private TrainingStopReason FinishEpoch(nn.Module<MultimodalBatch, Tensor> model, TrainingObjective objective, MultimodalDataLoader valid,
        optim.Optimizer optimizer, ParameterGroups groups, TrainerState state, BestWeights best, LearningRateSchedule schedule, long totalSteps,
        IProgress<TrainingProgress>? progress)
    {
        var trainable = groups.Trainable;
        var (metrics, validLoss) = EvaluationLoop.Run(model, valid, objective, during: (state.Epoch, state.Step));
        model.train();
        double trainLoss = state.EpochLossCount > 0 ? state.EpochLossSum / state.EpochLossCount : double.NaN;
        var summary = new EpochSummary(state.Epoch, trainLoss, validLoss, metrics);
        bool improved = state.RecordEpoch(summary, _options.EarlyStoppingMetric, _options.HigherIsBetter);
        if (improved) best.Capture(trainable);
        _logger.LogInformation("Epoch {Epoch}: train loss {TrainLoss:F4}, valid loss {ValidLoss:F4}, {Metrics}{Best}",
            state.Epoch + 1, trainLoss, validLoss, metrics, improved ? " (best)" : "");
        progress?.Report(new TrainingProgress(TrainingEvent.EpochCompleted, state.Epoch, state.Step, totalSteps, trainLoss, groups.Rates(schedule.Factor(state.Step - 1)), metrics, validLoss));

        bool patienceSpent = _options.Patience > 0 && state.EpochsWithoutImprovement >= _options.Patience;
        state.StartNextEpoch();
        SaveLast(optimizer, groups, state, schedule, totalSteps, progress);
        if (!patienceSpent) return TrainingStopReason.Completed;
        _logger.LogInformation("Early stopping: {Metric} has not improved for {Patience} epochs", _options.EarlyStoppingMetric, _options.Patience);
        return TrainingStopReason.EarlyStopped;
    }

    private void SaveLast(optim.Optimizer optimizer, ParameterGroups groups, TrainerState state,
        LearningRateSchedule schedule, long totalSteps, IProgress<TrainingProgress>? progress)
    {
        if (_options.CheckpointDirectory is not { } directory) return;
        var path = Path.Combine(directory, LastCheckpointName);
        TrainerCheckpoint.Save(path, groups.Trainable, optimizer, state);
        progress?.Report(new TrainingProgress(TrainingEvent.CheckpointSaved, state.Epoch, state.Step, totalSteps, double.NaN, groups.Rates(schedule.Factor(state.Step)), CheckpointPath: path));
    }
}
