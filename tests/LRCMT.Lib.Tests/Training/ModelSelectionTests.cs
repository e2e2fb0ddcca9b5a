using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Data.Synthetic;
using LRCMT.Evaluation;
using LRCMT.Tests.Models;
using LRCMT.Training;
using TorchSharp;
using Xunit;

namespace LRCMT.Tests.Training;

// MMSA's protocol: the restored epoch is the one with the lowest validation loss (KeyEval "Loss"), the earliest on ties.
public class ModelSelectionTests
{
    private static EpochSummary Epoch(int epoch, double loss, double accuracy) =>
        new(epoch, 1.0, loss, new MetricResults(new Dictionary<string, double> { [MsaMetricNames.Has0Acc2] = accuracy }, new Dictionary<string, string>()));

    [Fact]
    public void Selection_on_validation_loss_keeps_the_lowest_loss_and_the_earliest_of_equal_ones()
    {
        var state = new TrainerState();
        double[] losses = [0.9, 0.5, 0.7, 0.5, 0.6];
        var improved = losses.Select((loss, e) => state.RecordEpoch(Epoch(e, loss, 0.5 + e / 10.0), TrainerOptions.LossMetric, higherIsBetter: false)).ToList();

        state.BestEpoch.Should().Be(1, "epoch 3 only ties epoch 1's loss");
        state.BestValue.Should().Be(0.5);
        improved.Should().Equal(true, true, false, false, false);
        state.EpochsWithoutImprovement.Should().Be(3, "patience counts from the selected epoch");
    }

    [Fact]
    public void Selection_on_a_named_metric_keeps_its_best_value_and_the_earliest_of_equal_ones()
    {
        var state = new TrainerState();
        double[] accuracies = [0.6, 0.8, 0.8, 0.7];
        foreach (var (accuracy, e) in accuracies.Select((a, e) => (a, e)))
            state.RecordEpoch(Epoch(e, loss: 1 - e / 10.0, accuracy), MsaMetricNames.Has0Acc2, higherIsBetter: true);

        state.BestEpoch.Should().Be(1, "the lowest loss (epoch 3) does not matter when a metric is named");
    }

    [Fact]
    public void Fit_on_validation_loss_restores_the_epoch_whose_validation_loss_was_lowest()
    {
        torch.manual_seed(3);
        var benchmark = ControlledBenchmark.Generate(new ControlledBenchmarkOptions
        {
            TrainCount = 16, ValidCount = 8, TestCount = 0, AcousticFeatures = ModelTestData.Acoustic, VisualFeatures = ModelTestData.Visual,
        });
        var samples = benchmark.Train.Concat(benchmark.Valid).Select((s, i) => s with { TokenIds = [2, 5 + i % 20, 3], Text = null }).ToList();
        var collator = new MultimodalCollator();
        var train = new MultimodalDataLoader(samples[..16], collator, 4, shuffle: true, seed: 3);
        var valid = new MultimodalDataLoader(samples[16..], collator, 4);
        using var model = ModelTestData.Model();

        // A high learning rate makes the validation loss move both ways over the epochs.
        var result = new Trainer(new TrainerOptions { Epochs = 6, LearningRate = 0.05, EarlyStoppingMetric = TrainerOptions.LossMetric })
            .Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        var losses = result.History.Select(h => h.ValidationLoss).ToList();
        int lowest = losses.IndexOf(losses.Min());
        result.BestEpoch.Should().Be(result.History[lowest].Epoch);
        // The restored weights are that epoch's: scoring them again gives its validation loss (L1 = MAE on a score head).
        Trainer.Evaluate(model, valid, MsaDataset.Mosi).Values[MsaMetricNames.Mae].Should().BeApproximately(losses[lowest], 1e-5);
        result.BestEpoch.Should().NotBe(result.History[^1].Epoch, "otherwise the test would not tell restoring from keeping the last epoch")
            .And.Subject.Should().NotBe(-1);
    }
}
