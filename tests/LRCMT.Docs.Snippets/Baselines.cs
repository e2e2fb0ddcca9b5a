// docs/baselines.md
using LRCMT.Baselines;
using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Training;
using static TorchSharp.torch;

namespace LRCMT.Docs.Snippets;

internal static class Baselines
{
    internal static void MulTBehindLoRA(MultimodalDataLoader train, MultimodalDataLoader valid)
    {
        var bert = BertModel.FromPretrained("bert-base-uncased");               // the model below owns it
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        using var mult = new BaselineModel(bert, new MulTFusion(bert.HiddenSize, acousticFeatures: 5, visualFeatures: 20));
        var result = new Trainer(new TrainerOptions { Epochs = 10 }).Fit(mult, train, valid);
    }

    internal static void OtherBaselines()
    {
        var tfn = new TfnFusion(768, acousticFeatures: 5, visualFeatures: 20, settings: new TfnSettings { PostFusionHidden = 64 });
        var lmf = new LmfFusion(768, acousticFeatures: 5, visualFeatures: 20, outputs: 3, settings: new LmfSettings { Rank = 4 });
        var mag = new MagBertModel(BertModel.FromPretrained("bert-base-uncased"), acousticFeatures: 5, visualFeatures: 20,
            settings: new MagSettings { InjectionLayer = 0, Alignment = NonverbalAlignment.ResampleToText });
    }

    internal static void BodyOnFeatures(Tensor glove, Tensor textMask, Tensor covarep, Tensor audioMask, Tensor facet, Tensor videoMask)
    {
        using var body = new MulTFusion(textWidth: 300, acousticFeatures: 74, visualFeatures: 35);
        var scores = body.call(new MaskedSequence(glove, textMask), new MaskedSequence(covarep, audioMask), new MaskedSequence(facet, videoMask));
    }
}
