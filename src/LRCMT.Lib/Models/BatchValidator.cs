using LRCMT.Data;
using LRCMT.Errors;
using static TorchSharp.torch;

namespace LRCMT.Models;

/// <summary>
/// Checks a <see cref="MultimodalBatch"/> against the model before any tensor operation, so a wrong input is
/// reported as a <see cref="ShapeMismatchException"/> naming the modality and both shapes instead of a libtorch
/// error deep inside attention (or an <see cref="InvalidInputException"/> for features that are not floating point).
/// </summary>
internal static class BatchValidator
{
    public static void Validate(MultimodalBatch batch, long acousticFeatures, long visualFeatures)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var ids = batch.InputIds;
        if (ids.dim() != 2 || ids.shape[0] < 1 || ids.shape[1] < 1)
            throw new ShapeMismatchException("text input ids", "[batch ≥ 1, seq ≥ 1]", ids.shape);
        long size = ids.shape[0], textLength = ids.shape[1];

        CheckMask("text attention mask", batch.AttentionMask, size, textLength);
        if (batch.TokenTypeIds is { } types && !types.shape.SequenceEqual(ids.shape))
            throw new ShapeMismatchException("text token type ids", $"[{size}, {textLength}] like the input ids", types.shape);

        CheckModality("acoustic", batch.Acoustic, batch.AcousticMask, size, acousticFeatures);
        CheckModality("visual", batch.Visual, batch.VisualMask, size, visualFeatures);
    }

    private static void CheckModality(string modality, Tensor features, Tensor mask, long size, long featureSize)
    {
        if (features.dim() != 3)
            throw new ShapeMismatchException($"{modality} features", $"[{size}, seq, {featureSize}]", features.shape);
        if (features.shape[0] != size)
            throw new ShapeMismatchException($"{modality} features (batch size differs from the text's {size})", $"[{size}, seq, {featureSize}]", features.shape);
        if (features.shape[2] != featureSize)
            throw new ShapeMismatchException($"{modality} features (feature size)", $"[{size}, seq, {featureSize}]", features.shape);
        if (features.shape[1] < 1)
            throw new ShapeMismatchException($"{modality} features (empty sequence)", $"[{size}, seq ≥ 1, {featureSize}]", features.shape);
        if (!features.is_floating_point())
            throw new InvalidInputException($"{modality} features", $"expected a floating-point tensor but got {features.dtype}.");
        CheckMask($"{modality} mask", mask, size, features.shape[1]);
    }

    private static void CheckMask(string what, Tensor mask, long size, long length)
    {
        if (mask.dim() != 2 || mask.shape[0] != size || mask.shape[1] != length)
            throw new ShapeMismatchException(what, $"[{size}, {length}]", mask.shape);
    }
}
