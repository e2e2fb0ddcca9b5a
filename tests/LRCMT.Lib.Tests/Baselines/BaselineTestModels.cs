using LRCMT.Interop;
using LRCMT.Baselines;
using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.Tests.Fusion;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>Each baseline at tiny sizes, and batches with unaligned lengths, padding and streams that are all padding.</summary>
internal static class BaselineTestModels
{
    public const int Acoustic = 5, Visual = 4;

    public static readonly TheoryData<string> Kinds = new("MulT", "TFN", "LMF", "MAG-BERT");

    /// <summary>The baseline <paramref name="kind"/> on a small encoder (MAG-BERT on the tiny BERT, the others on a fake one).</summary>
    public static nn.Module<MultimodalBatch, Tensor> Create(string kind, int outputs = 1, long seed = 7)
    {
        manual_seed(seed);
        if (kind == "MAG-BERT") return new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), Acoustic, Visual, outputs);
        var encoder = new FakeTextEncoder();
        return new BaselineModel(encoder, Body(kind, encoder.HiddenSize, outputs));
    }

    public static FusionBody Body(string kind, int textWidth, int outputs = 1) => kind switch
    {
        "MulT" => new MulTFusion(textWidth, Acoustic, Visual, outputs,
            new MulTSettings { CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 1 }, AcousticKernelSize = 3 }),
        "TFN" => new TfnFusion(textWidth, Acoustic, Visual, outputs, new TfnSettings { Subnetworks = SmallSubnetworks, PostFusionHidden = 8 }),
        "LMF" => new LmfFusion(textWidth, Acoustic, Visual, outputs, new LmfSettings { Subnetworks = SmallSubnetworks, Rank = 2 }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static UnimodalSubnetworkSettings SmallSubnetworks => new() { TextHidden = 8, TextOut = 6, AcousticHidden = 4, VisualHidden = 3 };

    /// <summary>
    /// Three samples: text 6, 4 and 5 real tokens of 6; acoustic 7, 3 and 0 real frames of 7; visual 2, 0 and 5 of 5
    /// (sample 2 has no acoustic frame, sample 1 no visual frame). Padding holds <paramref name="padding"/>.
    /// </summary>
    public static MultimodalBatch Batch(double padding = double.NaN, long seed = 3)
    {
        manual_seed(seed);
        var textMask = FusionTestData.Mask(6, 6, 4, 5);
        var acousticMask = FusionTestData.Mask(7, 7, 3, 0);
        var visualMask = FusionTestData.Mask(5, 2, 0, 5);
        return new MultimodalBatch(
            InputIds: randint(1, 30, [3, 6]).masked_fill(textMask.logical_not(), RootedScalars.Zero), // an inline 0 may be finalised while libtorch reads it
            AttentionMask: textMask.to(ScalarType.Int64),
            TokenTypeIds: null,
            Acoustic: FusionTestData.WithPadding(randn(3, 7, Acoustic), acousticMask, padding),
            AcousticMask: acousticMask,
            Visual: FusionTestData.WithPadding(randn(3, 5, Visual), visualMask, padding),
            VisualMask: visualMask,
            Labels: tensor(new[] { 1.5f, -0.5f, 2f }),
            Ids: ["s0", "s1", "s2"]);
    }

    /// <summary>Sample <paramref name="row"/> of <paramref name="batch"/> alone, cut to its real lengths (at least one frame, all padding when it has none).</summary>
    public static MultimodalBatch Alone(MultimodalBatch batch, int row)
    {
        long Real(Tensor mask) => Math.Max(1, mask[row].to(ScalarType.Int64).sum().item<long>());
        long text = Real(batch.AttentionMask), acoustic = Real(batch.AcousticMask), visual = Real(batch.VisualMask);
        return new MultimodalBatch(
            batch.InputIds[row..(row + 1), ..(int)text], batch.AttentionMask[row..(row + 1), ..(int)text], null,
            batch.Acoustic[row..(row + 1), ..(int)acoustic], batch.AcousticMask[row..(row + 1), ..(int)acoustic],
            batch.Visual[row..(row + 1), ..(int)visual], batch.VisualMask[row..(row + 1), ..(int)visual],
            null, [batch.Ids[row]]);
    }
}
