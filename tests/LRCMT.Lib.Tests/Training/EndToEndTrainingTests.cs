using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Data.Mmsa;
using LRCMT.Evaluation;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Training;

public class EndToEndTrainingTests
{
    [Fact]
    public void Mmsa_features_train_an_lrcmt_model_whose_only_changes_are_adapters_fusion_and_head()
    {
        var file = MmsaFeatureFile.Load(Fixtures.MmsaPickle, new MmsaLoadOptions { TextSource = MmsaTextSource.RawText });
        var collator = new MultimodalCollator(BertTextTokenizer.FromVocabFile(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt")), maxTextLength: 16);
        var train = new MultimodalDataLoader(file.Train.Samples, collator, batchSize: 3, shuffle: true, seed: 1);
        var valid = new MultimodalDataLoader(file.Valid.Samples, collator, batchSize: 3);
        using var model = new LrcmtBuilder()
            .WithPretrainedEncoder(Fixtures.TinyBertFolder)
            .WithLoRA(l => l with { Rank = 4, TargetModules = ["query", "value"] })
            .WithModalities(file.AcousticDim, file.VisualDim)
            .WithFusion(width: 8, heads: 2, layers: 1)
            .Build();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        var result = new Trainer(new TrainerOptions { Epochs = 1, WarmupRatio = 0, Dataset = MsaDataset.Mosi, RestoreBestWeights = false })
            .Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        result.StopReason.Should().Be(TrainingStopReason.Completed);
        result.History.Should().HaveCount(1).And.OnlyContain(h => double.IsFinite(h.TrainLoss) && h.Validation.Values.Count == 8);
        foreach (var (name, parameter) in model.named_parameters())
        {
            bool changed = !parameter.detach().allclose(before[name], rtol: 0, atol: 0);
            bool trains = name.Contains("lora_") || !name.StartsWith("text_encoder.");
            changed.Should().Be(trains, $"{name} {(trains ? "trains" : "is frozen")}");
        }
        foreach (var t in before.Values) t.Dispose();
    }
}
