using LRCMT.Interop;
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using FluentAssertions;
using static TorchSharp.torch;

namespace LRCMT.Tests.Export;

/// <summary>Small models and batches for export parity: the tiny BERT fixture inside a small LRCMT, every weight moved off its initial value.</summary>
internal static class ExportTestModels
{
    public const int AcousticFeatures = 5;
    public const int VisualFeatures = 7;

    /// <summary>An LRCMT on the tiny BERT, in eval mode, with weights perturbed (so LayerNorms, biases and LoRA B are not at their initial values).</summary>
    public static LRCMTModel Lrcmt(EncoderTuning tuning = EncoderTuning.LoRA, InteractionMode interaction = InteractionMode.AcousticVisualFirst,
        bool reverse = false, int classes = 0, bool relativeTime = true, int kernel = 1, bool dora = false, long seed = 1)
    {
        manual_seed(seed);
        var builder = new LrcmtBuilder()
            .WithTextEncoder(BertModel.FromPretrained(Fixtures.TinyBertFolder))
            .WithModalities(m => m with
            {
                AcousticFeatures = AcousticFeatures,
                VisualFeatures = VisualFeatures,
                AcousticKernelSize = kernel,
                TextKernelSize = kernel,
            })
            .WithFusion(s => s with { Width = 16, Heads = 2, Layers = 2, RelativeTimeBias = relativeTime })
            .WithInteraction(interaction, reverse)
            .WithEncoderTuning(tuning);
        if (tuning == EncoderTuning.LoRA)
            builder = builder.WithLoRA(c => c with { Rank = 4, Alpha = 8, UseDora = dora, TargetModules = ["query", "value", "dense"] });
        builder = classes > 0 ? builder.WithClassificationHead(classes) : builder.WithRegressionHead();
        var model = builder.Build();
        Perturb(model);
        model.eval();
        return model;
    }

    /// <summary>Adds noise to every parameter, adapters included.</summary>
    public static void Perturb(nn.Module model, double scale = 0.05)
    {
        using var _ = no_grad();
        using Scalar held = scale; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        foreach (var parameter in model.parameters()) parameter.add_(randn_like(parameter) * held, RootedScalars.One);
    }

    /// <summary>
    /// Four samples of different lengths in every modality: one unpadded, one padded everywhere, one whose acoustic
    /// stream is all padding, one whose acoustic and visual streams are both all padding.
    /// </summary>
    public static MultimodalBatch Batch(long vocabulary, int textLength = 9, int acousticLength = 6, int visualLength = 8, long seed = 7)
    {
        manual_seed(seed);
        int[] textReal = [textLength, 4, 6, 2];
        int[] acousticReal = [acousticLength, 3, 0, 0];
        int[] visualReal = [visualLength, 5, 2, 0];
        var ids = randint(1, vocabulary, [4, textLength], dtype: ScalarType.Int64);
        var attention = Mask(textReal, textLength).to(ScalarType.Int64);
        ids = ids * attention; // padding id 0
        var types = zeros_like(ids);
        types[0, TensorIndex.Slice(textLength / 2)] = 1;
        return new MultimodalBatch(ids, attention, types,
            randn(4, acousticLength, AcousticFeatures), Mask(acousticReal, acousticLength),
            randn(4, visualLength, VisualFeatures), Mask(visualReal, visualLength), null, ["a", "b", "c", "d"]);
    }

    public static Tensor Mask(int[] real, int length)
    {
        var mask = zeros(real.Length, length, dtype: ScalarType.Bool);
        for (var i = 0; i < real.Length; i++) mask[i, TensorIndex.Slice(0, real[i])] = true;
        return mask;
    }

    /// <summary>The batch as the exported graph's inputs (masks as int64).</summary>
    public static Dictionary<string, Tensor> Inputs(MultimodalBatch batch) => new()
    {
        ["input_ids"] = batch.InputIds,
        ["attention_mask"] = batch.AttentionMask.to(ScalarType.Int64),
        ["token_type_ids"] = batch.TokenTypeIds!,
        ["acoustic"] = batch.Acoustic,
        ["acoustic_mask"] = batch.AcousticMask.to(ScalarType.Int64),
        ["visual"] = batch.Visual,
        ["visual_mask"] = batch.VisualMask.to(ScalarType.Int64),
    };

    public static double MaxAbsDifference(Tensor a, Tensor b)
    {
        using var _ = no_grad();
        a.shape.Should().Equal(b.shape);
        return (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();
    }
}
