using LRCMT.Interop;
using LRCMT.Configuration;
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

    public static LrcmtOptions Options(
        InteractionMode mode = InteractionMode.AcousticVisualFirst, bool reverse = false, HeadKind head = HeadKind.Regression) => new()
    {
        TextEncoder = new TextEncoderOptions { Tuning = EncoderTuning.Frozen },
        Modalities = new ModalityOptions { AcousticFeatures = Acoustic, VisualFeatures = Visual, AcousticKernelSize = 3 },
        Fusion = FusionTestData.Tiny(),
        Interaction = new InteractionOptions { Mode = mode, TextAttendedByMemory = reverse },
        Head = new HeadOptions { Kind = head, Classes = 3, Dropout = 0 },
    };

    /// <summary>A model on a <see cref="FakeTextEncoder"/> given in code: frozen, or fully trained.</summary>
    public static LRCMTModel Model(LrcmtOptions? options = null, bool freezeEncoder = true)
    {
        options ??= Options();
        if (!freezeEncoder) options = options with { TextEncoder = options.TextEncoder with { Tuning = EncoderTuning.Full } };
        return LrcmtBuilder.FromOptions(options).WithTextEncoder(new FakeTextEncoder()).Build();
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
            InputIds: randint(1, 30, [size, 6]).masked_fill(textMask.logical_not(), RootedScalars.Zero), // an inline 0 may be finalised while libtorch reads it
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
