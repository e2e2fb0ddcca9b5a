using LRCMT.Benchmarks.Bert;
using LRCMT.Configuration;
using LRCMT.Models;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Export;

/// <summary>
/// The two models of the inference comparison, built the same way (same seed, so the same weights) in the process that
/// exports them and in every TorchSharp child: a MiniLM-shaped BERT, and a full LRCMT on it (LRCMT's defaults: LoRA r=8
/// on query/value left unmerged, width 50, 5 heads, 5 layers per stage, relative-time bias; MOSI's 5 acoustic and
/// 20 visual features).
/// </summary>
internal static class InferenceModels
{
    public const int AcousticFeatures = 5;
    public const int VisualFeatures = 20;

    public static nn.Module Build(string kind)
    {
        torch.manual_seed(17);
        var encoder = new BertModel(BertSizes.MiniLM());
        if (kind == "minilm")
        {
            encoder.eval();
            return encoder;
        }
        var model = new LrcmtBuilder()
            .WithTextEncoder(encoder)
            .WithModalities(AcousticFeatures, VisualFeatures)
            .WithFusion(s => s with { RelativeTimeBias = true })
            .Build();
        model.eval();
        return model;
    }

    public static long Vocabulary => BertSizes.MiniLM().VocabSize;
}
