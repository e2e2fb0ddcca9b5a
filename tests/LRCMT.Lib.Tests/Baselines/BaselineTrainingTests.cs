using FluentAssertions;
using LRCMT.Baselines;
using LRCMT.Data;
using LRCMT.Data.Mmsa;
using LRCMT.Evaluation;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>
/// One epoch of every baseline on the MMSA-layout fixture (unaligned acoustic lengths, 5 COVAREP and 20 Facet features)
/// behind the same tiny BERT with LoRA: the run completes with finite losses, and exactly the adapters and the fusion
/// parameters change while the base encoder stays as loaded.
/// </summary>
public sealed class BaselineTrainingTests
{
    public static TheoryData<string> Kinds => BaselineTestModels.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void One_epoch_trains_the_adapters_and_the_fusion_and_nothing_else(string kind)
    {
        var file = MmsaFeatureFile.Load(Fixtures.MmsaPickle, new MmsaLoadOptions { TextSource = MmsaTextSource.RawText });
        var collator = new MultimodalCollator(BertTextTokenizer.FromVocabFile(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt")), maxTextLength: 16);
        var train = new MultimodalDataLoader(file.Train.Samples, collator, batchSize: 3, shuffle: true, seed: 1);
        var valid = new MultimodalDataLoader(file.Valid.Samples, collator, batchSize: 3);
        using var model = Build(kind, file.AcousticDim, file.VisualDim);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var adapters = model.modules().OfType<LoRALayer>().SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();

        var result = new Trainer(new TrainerOptions { Epochs = 1, WarmupRatio = 0, Dataset = MsaDataset.Mosi, RestoreBestWeights = false })
            .Fit(model, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        result.StopReason.Should().Be(TrainingStopReason.Completed);
        result.History.Should().ContainSingle().Which.TrainLoss.Should().Match(loss => double.IsFinite(loss));
        foreach (var (name, parameter) in model.named_parameters())
        {
            var changed = !parameter.detach().allclose(before[name], rtol: 0, atol: 0);
            var trains = !name.StartsWith("text_encoder.", StringComparison.Ordinal) || adapters.Contains(parameter.Handle);
            changed.Should().Be(trains, $"{name} {(trains ? "trains" : "is the frozen base encoder")}");
        }
        foreach (var tensor in before.Values) tensor.Dispose();
    }

    private static nn.Module<MultimodalBatch, Tensor> Build(string kind, int acoustic, int visual)
    {
        manual_seed(1);
        var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query", "value"] });
        var subnetworks = new UnimodalSubnetworkSettings { TextHidden = 8, TextOut = 6, AcousticHidden = 4, VisualHidden = 4 };
        return kind switch
        {
            "MulT" => new BaselineModel(bert, new MulTFusion(bert.HiddenSize, acoustic, visual,
                settings: new MulTSettings { CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 1 } })),
            "TFN" => new BaselineModel(bert, new TfnFusion(bert.HiddenSize, acoustic, visual, settings: new TfnSettings { Subnetworks = subnetworks, PostFusionHidden = 8 })),
            "LMF" => new BaselineModel(bert, new LmfFusion(bert.HiddenSize, acoustic, visual, settings: new LmfSettings { Subnetworks = subnetworks, Rank = 2 })),
            "MAG-BERT" => new MagBertModel(bert, acoustic, visual),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }
}
