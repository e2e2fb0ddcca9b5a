using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Data;
using LRCMT.Data.Synthetic;
using LRCMT.Evaluation;
using LRCMT.Models;
using LRCMT.TextEncoders;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

public class ClassificationTrainingTests
{
    [Fact]
    public void A_two_class_head_learns_the_controlled_benchmarks_sign_with_cross_entropy()
    {
        var benchmark = ControlledBenchmark.Generate(new ControlledBenchmarkOptions
        {
            // No co-occurring cue and no negation: the sign is the polarity word's.
            Seed = 5, TrainCount = 128, ValidCount = 64, TestCount = 8, AcousticLength = 6, VisualLength = 6,
            CoOccurringRate = 0, DecoyRate = 0, NegationRate = 0,
        });
        var classes = new SentimentClasses(MsaDataset.Mosi, 2);
        // A word-level vocabulary of the benchmark's sentences, so each polarity word is one token.
        var words = benchmark.Train.Concat(benchmark.Valid).SelectMany(s => s.Text!.ToLowerInvariant().Split(' ', '.', ',', '!'))
            .Where(w => w.Length > 0).Distinct().Order(StringComparer.Ordinal);
        string vocab = Path.Combine(Directory.CreateTempSubdirectory("lrcmt-cls-").FullName, "vocab.txt");
        File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", .. words]);
        int vocabulary = File.ReadAllLines(vocab).Length;
        // The collator keeps the sentiment scores; the trainer maps them to the classes of the model's head.
        var collator = new MultimodalCollator(BertTextTokenizer.FromVocabFile(vocab), maxTextLength: 24);
        var train = new MultimodalDataLoader(benchmark.Train, collator, batchSize: 16, shuffle: true, seed: 1);
        var valid = new MultimodalDataLoader(benchmark.Valid, collator, batchSize: 32);
        manual_seed(7);
        using var model = new LrcmtBuilder()
            // A small trainable word encoder keeps the budget tiny.
            .WithTextEncoder(new LRCMT.Tests.Models.FakeTextEncoder(vocabulary, hidden: 16))
            .WithEncoderTuning(EncoderTuning.Full)
            .WithModalities(benchmark.Options.AcousticFeatures, benchmark.Options.VisualFeatures)
            .WithFusion(width: 16, heads: 2, layers: 1)
            .WithClassificationHead(2)
            .Build();
        var untrained = Trainer.Evaluate(model, valid, MsaDataset.Mosi)[MsaMetricNames.Has0Acc2];
        var positives = benchmark.Valid.Count(s => s.Label >= 0) / (double)benchmark.Valid.Count;

        var result = new Trainer(new TrainerOptions
        {
            Epochs = 8, LearningRate = 1e-2, EncoderLearningRate = 1e-2, WarmupRatio = 0.1, EarlyStoppingMetric = MsaMetricNames.Has0Acc2,
        }).Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        var accuracy = Trainer.Evaluate(model, valid, MsaDataset.Mosi)[MsaMetricNames.Has0Acc2];
        result.History.Should().OnlyContain(h => h.Validation.Values.Keys.SequenceEqual(classes.MetricNames));
        result.History[^1].TrainLoss.Should().BeLessThan(result.History[0].TrainLoss);
        accuracy.Should().BeGreaterThan(Math.Max(positives, 1 - positives) + 0.1, $"the majority class is {Math.Max(positives, 1 - positives):P0}, untrained {untrained:P0}");
        Directory.Delete(Path.GetDirectoryName(vocab)!, recursive: true);
    }

    private static (MultimodalDataLoader Train, MultimodalDataLoader Valid) TinyLoaders()
    {
        var benchmark = ControlledBenchmark.Generate(new ControlledBenchmarkOptions { TrainCount = 8, ValidCount = 8, TestCount = 0 });
        var ids = benchmark.Train.Concat(benchmark.Valid).Select((s, i) => s with { TokenIds = [2, 5 + i % 20, 3], Text = null }).ToList();
        var collator = new MultimodalCollator();
        return (new MultimodalDataLoader(ids[..8], collator, 4), new MultimodalDataLoader(ids[8..], collator, 4));
    }

    private static LRCMTModel Model(HeadKind head, int classes = 2) =>
        ModelTestData.Model(ModelTestData.Options(head: head) with { Head = new HeadOptions { Kind = head, Classes = classes, Dropout = 0 } } with
        {
            Modalities = new ModalityOptions { AcousticFeatures = 5, VisualFeatures = 20 },
        });

    [Fact]
    public void The_trainer_reads_the_classes_from_the_model_and_scores_a_seven_class_head_on_seven_classes()
    {
        var (train, valid) = TinyLoaders();
        using var model = Model(HeadKind.Classification, classes: 7);

        var result = new Trainer(new TrainerOptions { Epochs = 1, EarlyStoppingMetric = TrainerOptions.LossMetric })
            .Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        result.History.Should().OnlyContain(h => h.Validation.Values.Keys.SequenceEqual(new SentimentClasses(MsaDataset.Mosi, 7).MetricNames));
    }

    [Fact]
    public void A_loss_or_a_metric_that_does_not_fit_the_models_head_is_refused_naming_the_setting()
    {
        var (train, valid) = TinyLoaders();
        using var regression = Model(HeadKind.Regression);
        using var classifier = Model(HeadKind.Classification, classes: 7);

        var crossEntropyOnScores = () => new Trainer(new TrainerOptions { Loss = TrainingLoss.CrossEntropy }).Fit(regression, train, valid);
        var l1OnClasses = () => new Trainer(new TrainerOptions { Loss = TrainingLoss.L1, EarlyStoppingMetric = TrainerOptions.LossMetric }).Fit(classifier, train, valid);
        var twoClassMetric = () => new Trainer(new TrainerOptions { EarlyStoppingMetric = MsaMetricNames.Has0Acc2 }).Fit(classifier, train, valid);
        var simsInTwoClasses = () => Trainer.Evaluate(Model(HeadKind.Classification, classes: 2), valid, MsaDataset.Sims);

        crossEntropyOnScores.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Path.Should().Be("Loss");
        l1OnClasses.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Path.Should().Be("Loss");
        twoClassMetric.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Path.Should().Be("EarlyStoppingMetric");
        simsInTwoClasses.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Path.Should().Be("Head.Classes");
    }

    [Theory]
    [InlineData(MsaDataset.Mosi, 2, -0.2f, 0)]
    [InlineData(MsaDataset.Mosi, 2, 0f, 1)]
    [InlineData(MsaDataset.Mosei, 7, -3.4f, 0)]
    [InlineData(MsaDataset.Mosi, 7, 0.5f, 3)]
    [InlineData(MsaDataset.Mosi, 7, 1.5f, 5)]
    [InlineData(MsaDataset.Mosi, 7, 2.6f, 6)]
    [InlineData(MsaDataset.Sims, 3, -0.1f, 0)]
    [InlineData(MsaDataset.Sims, 3, 0.1f, 1)]
    [InlineData(MsaDataset.Sims, 3, 0.8f, 2)]
    public void Regression_scores_map_to_classes_by_mmsas_conventions(MsaDataset dataset, int count, float score, long expected)
    {
        // 0.5 and 1.5 round half to even (to 0 and 2), as numpy's round does in MMSA's Mult_acc_7.
        new SentimentClasses(dataset, count).ClassOf(score).Should().Be(expected);
    }
}
