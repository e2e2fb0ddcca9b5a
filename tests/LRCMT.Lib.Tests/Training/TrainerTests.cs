using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private const int AcousticDim = 3, VisualDim = 2;
    private static readonly Scalar NaN = float.NaN; // held for the lambdas that fill with it
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"lrcmt-trainer-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Labels depend on the inputs (first token and mean acoustic value) so there is something to learn.</summary>
    private static List<MultimodalSample> Samples(int count, int seed)
    {
        var random = new Random(seed);
        var samples = new List<MultimodalSample>();
        for (int i = 0; i < count; i++)
        {
            int time = 2 + random.Next(3);
            var acoustic = new float[time, AcousticDim];
            var visual = new float[time, VisualDim];
            double acousticSum = 0;
            for (int t = 0; t < time; t++)
            {
                for (int d = 0; d < AcousticDim; d++) acousticSum += acoustic[t, d] = (float)(random.NextDouble() * 2 - 1);
                for (int d = 0; d < VisualDim; d++) visual[t, d] = (float)random.NextDouble();
            }
            long token = 3 + random.Next(40);
            float label = (float)Math.Clamp(token / 20.0 - 1 + acousticSum / time, -3, 3);
            samples.Add(new MultimodalSample($"s{i}", null, [1, token, 2], acoustic, visual, label));
        }
        return samples;
    }

    private static (MultimodalDataLoader Train, MultimodalDataLoader Valid) Loaders(int trainCount = 12, int batchSize = 4) => (
        new MultimodalDataLoader(Samples(trainCount, 1), new MultimodalCollator(), batchSize, shuffle: true, seed: 5),
        new MultimodalDataLoader(Samples(6, 2), new MultimodalCollator(), batchSize: 3));

    private TrainerOptions Options(int epochs) => new()
    {
        Epochs = epochs, LearningRate = 1e-2, AdapterLearningRate = 5e-3, WarmupRatio = 0.2, Patience = 0,
        CheckpointDirectory = _folder, Seed = 7,
    };

    private static Dictionary<string, float[]> Weights(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().data<float>().ToArray());

    private sealed class Recorder(Action<TrainingProgress> onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => onReport(value);
    }

    public static TheoryData<string> Interruptions() => new("after epoch", "mid-epoch");

    [Theory]
    [MemberData(nameof(Interruptions))]
    public void Resumed_run_ends_with_exactly_the_weights_of_an_uninterrupted_run(string interruption)
    {
        var (train, valid) = Loaders();
        using var straight = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        var straightResult = new Trainer(Options(4)).Fit(straight, train, valid, cancellationToken: TestContext.Current.CancellationToken);
        Directory.Delete(_folder, recursive: true);

        using var first = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        using var cancel = new CancellationTokenSource();
        var stopper = new Recorder(p =>
        {
            bool stop = interruption == "after epoch" ? p.Event == TrainingEvent.EpochCompleted && p.Epoch == 1 : p.Event == TrainingEvent.StepCompleted && p.Step == 5;
            if (stop) cancel.Cancel();
        });
        var firstResult = new Trainer(Options(4)).Fit(first, train, valid, stopper, cancel.Token);
        firstResult.StopReason.Should().Be(TrainingStopReason.Cancelled);

        // A new process would rebuild the model from scratch; its trainable weights must come from the checkpoint.
        using var resumed = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        using Scalar shift = 1.0; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        using (no_grad()) resumed.named_parameters().Single(p => p.name == "head.weight").parameter.add_(shift, RootedScalars.One);
        var resumedResult = new Trainer(Options(4)).Resume(resumed, train, valid, Path.Combine(_folder, Trainer.LastCheckpointName),
            cancellationToken: TestContext.Current.CancellationToken);

        resumedResult.Steps.Should().Be(straightResult.Steps).And.Be(12);
        resumedResult.BestEpoch.Should().Be(straightResult.BestEpoch);
        resumedResult.History.Select(h => h.TrainLoss).Should().Equal(straightResult.History.Select(h => h.TrainLoss));
        var expected = Weights(straight);
        foreach (var (name, values) in Weights(resumed))
            values.Should().Equal(expected[name], $"parameter {name} must be bit-identical");
    }

    [Fact]
    public void Evaluate_and_Predict_give_the_model_back_in_training_mode_when_its_output_is_refused()
    {
        var (_, valid) = Loaders();
        using var nan = new FixedOutputModel(size => full(size, NaN));
        using var wrongShape = new FixedOutputModel(size => zeros(size + 1));
        nan.train();
        wrongShape.train();

        var evaluate = () => Trainer.Evaluate(nan, valid, MsaDataset.Mosi);
        var predict = () => Trainer.Predict(wrongShape, valid);

        evaluate.Should().Throw<InvalidInputException>().WithMessage("*NaN*");
        nan.training.Should().BeTrue("evaluation switched the model to eval mode and must switch it back");
        predict.Should().Throw<ShapeMismatchException>();
        wrongShape.training.Should().BeTrue();
    }

    // Returns what it is told for every batch, whatever the inputs; one parameter, so it has a device.
    private sealed class FixedOutputModel : nn.Module<MultimodalBatch, Tensor>
    {
        private readonly Func<long, Tensor> _output;
        private readonly TorchSharp.Modules.Parameter weight = new(zeros(1));

        public FixedOutputModel(Func<long, Tensor> output) : base(nameof(FixedOutputModel))
        {
            _output = output;
            RegisterComponents();
        }

        public override Tensor forward(MultimodalBatch batch) => _output(batch.Size);
    }

    [Fact]
    public void Adapter_and_other_parameters_follow_their_own_learning_rates()
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        var before = Weights(model);

        new Trainer(Options(1) with { AdapterLearningRate = 0, WeightDecay = 0, RestoreBestWeights = false }).Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        var after = Weights(model);
        after[TinyRegressor.AdapterKey].Should().Equal(before[TinyRegressor.AdapterKey], "the adapter learning rate is 0");
        after[TinyRegressor.EmbeddingKey].Should().Equal(before[TinyRegressor.EmbeddingKey], "frozen parameters never change");
        after["head.weight"].Should().NotEqual(before["head.weight"]);
    }

    [Fact]
    public void Encoder_learning_rate_applies_only_to_the_text_encoders_own_parameters()
    {
        var (train, valid) = Loaders();
        using var separate = new TinyRegressor(AcousticDim, VisualDim, seed: 3, trainEmbeddings: true);
        using var shared = new TinyRegressor(AcousticDim, VisualDim, seed: 3, trainEmbeddings: true);
        var before = Weights(separate);
        var options = Options(1) with { WeightDecay = 0, RestoreBestWeights = false };

        new Trainer(options with { EncoderLearningRate = 0 })
            .Fit(separate, train, valid, cancellationToken: TestContext.Current.CancellationToken);
        new Trainer(options).Fit(shared, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        Weights(separate)[TinyRegressor.EmbeddingKey].Should().Equal(before[TinyRegressor.EmbeddingKey], "the encoder learning rate is 0");
        Weights(separate)["head.weight"].Should().NotEqual(before["head.weight"]);
        Weights(shared)[TinyRegressor.EmbeddingKey].Should().NotEqual(before[TinyRegressor.EmbeddingKey], "without an encoder rate the trainable embedding follows LearningRate");
    }

    [Fact]
    public void Live_tensor_count_after_50_steps_equals_the_count_after_5()
    {
        // 4 steps per epoch: step 5 comes after the first evaluation, which allocates the best-weights copy once.
        var (train, valid) = Loaders(trainCount: 8, batchSize: 2);
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        var live = new Dictionary<long, long>();
        var probe = new Recorder(p =>
        {
            if (p.Event == TrainingEvent.StepCompleted && p.Step is 5 or 50)
                live[p.Step] = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        });

        new Trainer(Options(13)).Fit(model, train, valid, probe, TestContext.Current.CancellationToken);

        live.Should().ContainKeys(5, 50);
        live[50].Should().Be(live[5]);
    }

    [Fact]
    public void Nan_loss_stops_with_epoch_and_step_and_leaves_the_last_checkpoint()
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3) { PoisonFromTrainingCall = 5 };

        var fit = () => new Trainer(Options(3)).Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        // Epoch is the 0-based index; the message numbers epochs from 1, like every report.
        fit.Should().Throw<NonFiniteLossException>().Where(e => e.Epoch == 1 && e.Step == 4 && e.SampleIds.Count == 4)
            .WithMessage("*epoch 2, step 4*");
        var header = SafetensorsFile.ReadHeader(Path.Combine(_folder, Trainer.LastCheckpointName));
        header.Metadata["lrcmt.trainer"].Should().Contain("\"Epoch\":1,\"BatchInEpoch\":0,\"Step\":3");
    }

    [Fact]
    public void Cancellation_stops_after_the_current_step()
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        using var cancel = new CancellationTokenSource();
        var canceller = new Recorder(p => { if (p.Event == TrainingEvent.StepCompleted && p.Step == 2) cancel.Cancel(); });

        var result = new Trainer(Options(3)).Fit(model, train, valid, canceller, cancel.Token);

        result.StopReason.Should().Be(TrainingStopReason.Cancelled);
        result.Steps.Should().Be(2);
        File.Exists(Path.Combine(_folder, Trainer.LastCheckpointName)).Should().BeTrue();
    }

    [Fact]
    public void Early_stopping_ends_the_run_after_patience_epochs_without_improvement()
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);

        // With both learning rates at 0 nothing changes, so epoch 0 stays best and patience 2 stops after epoch 2.
        var result = new Trainer(Options(10) with { LearningRate = 0, AdapterLearningRate = 0, Patience = 2, EarlyStoppingMetric = MsaMetricNames.Has0Acc2 })
            .Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        result.StopReason.Should().Be(TrainingStopReason.EarlyStopped);
        result.EpochsCompleted.Should().Be(3);
        result.BestEpoch.Should().Be(0);
    }

    [Fact]
    public void Invalid_options_list_every_problem()
    {
        var create = () => new Trainer(new TrainerOptions { Epochs = 0, WarmupRatio = 1.5, EarlyStoppingMetric = "Mult_acc_3" });

        create.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().HaveCount(3);
    }

    [Theory]
    [InlineData(LearningRateDecay.Linear, 0, 0.0)]
    [InlineData(LearningRateDecay.Linear, 1, 0.5)]
    [InlineData(LearningRateDecay.Linear, 2, 1.0)]
    [InlineData(LearningRateDecay.Linear, 6, 0.5)]
    [InlineData(LearningRateDecay.Cosine, 6, 0.5)]
    [InlineData(LearningRateDecay.Cosine, 4, 0.85355339059327373)] // 0.5 * (1 + cos(pi / 4))
    [InlineData(LearningRateDecay.Constant, 9, 1.0)]
    public void Schedule_warms_up_then_decays_like_hugging_face(LearningRateDecay decay, long step, double factor)
    {
        new LearningRateSchedule(decay, warmupSteps: 2, totalSteps: 10).Factor(step).Should().BeApproximately(factor, 1e-12);
    }
}
