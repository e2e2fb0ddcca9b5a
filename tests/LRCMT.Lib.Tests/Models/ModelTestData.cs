using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.Tests.Fusion;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

/// <summary>Tiny architectures and batches for the model tests.</summary>
internal static class ModelTestData
{
    public const int Acoustic = 5;
    public const int Visual = 4;

    public static LrcmtArchitecture Architecture(
        InteractionMode mode = InteractionMode.AcousticVisualFirst, bool reverse = false, HeadKind head = HeadKind.Regression) =>
        new(AcousticFeatures: Acoustic, VisualFeatures: Visual, Fusion: FusionTestData.Tiny(), Interaction: mode,
            TextAttendedByMemory: reverse, Head: head, Classes: 3, OutputDropout: 0, AcousticKernelSize: 3);

    public static LRCMTModel Model(LrcmtArchitecture? architecture = null, bool freezeEncoder = true)
    {
        var encoder = new FakeTextEncoder();
        if (freezeEncoder) foreach (var p in encoder.parameters()) p.requires_grad = false;
        return new LRCMTModel(encoder, architecture ?? Architecture());
    }

    /// <summary>
    /// Two samples with unaligned lengths: text 6 and 4 tokens of 6, acoustic 7 and 3 frames of 7,
    /// visual 2 and 5 frames of 5.
    /// </summary>
    public static MultimodalBatch Batch(int size = 2)
    {
        long[] textLengths = [6, 4], acousticLengths = [7, 3], visualLengths = [2, 5];
        var textMask = FusionTestData.Mask(6, textLengths[..size]);
        return new MultimodalBatch(
            InputIds: randint(1, 30, [size, 6]).masked_fill(textMask.logical_not(), 0),
            AttentionMask: textMask.to(ScalarType.Int64),
            TokenTypeIds: null,
            Acoustic: randn(size, 7, Acoustic),
            AcousticMask: FusionTestData.Mask(7, acousticLengths[..size]),
            Visual: randn(size, 5, Visual),
            VisualMask: FusionTestData.Mask(5, visualLengths[..size]),
            Labels: null,
            Ids: Enumerable.Range(0, size).Select(i => $"clip{i}").ToList());
    }
}
