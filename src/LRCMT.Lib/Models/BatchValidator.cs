using LRCMT.Data;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Models;

/// <summary>
/// Checks a <see cref="MultimodalBatch"/> against the model before any tensor operation, so a wrong input is
/// reported as a <see cref="ShapeMismatchException"/> naming the modality and both shapes instead of a libtorch
/// error deep inside attention (or an <see cref="InvalidInputException"/> for features that are not floating point).
/// </summary>
internal static class BatchValidator
{
    /// <param name="batch">The batch.</param>
    /// <param name="acousticFeatures">Acoustic feature size the model expects.</param>
    /// <param name="visualFeatures">Visual feature size the model expects.</param>
    /// <param name="reference">A parameter of the modality projections (null for a text-only model): every modality's
    /// tensors must be on its device, and acoustic/visual features must have its dtype. float64 or float16 frames against a
    /// float32 model are refused, not converted: a silent cast would double the batch's memory or lose precision, and the
    /// collator already produces float32; convert with <c>.to(ScalarType.Float32)</c> if that is what you mean.</param>
    public static void Validate(MultimodalBatch batch, long acousticFeatures, long visualFeatures, Tensor? reference = null)
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
        if (reference is null) return;

        CheckDevice("text attention mask", batch.AttentionMask, batch.InputIds.device);
        if (batch.TokenTypeIds is { } typeIds) CheckDevice("text token type ids", typeIds, batch.InputIds.device);
        foreach (var (what, tensor) in new[] { ("acoustic features", batch.Acoustic), ("acoustic mask", batch.AcousticMask),
                     ("visual features", batch.Visual), ("visual mask", batch.VisualMask) })
            CheckDevice(what, tensor, reference.device);
        foreach (var (what, features) in new[] { ("acoustic features", batch.Acoustic), ("visual features", batch.Visual) })
            if (features.dtype != reference.dtype)
                throw new InvalidInputException(what, $"expected {reference.dtype} like the model's projections but got {features.dtype}; convert with .to(ScalarType.{reference.dtype}).");
    }

    private static void CheckDevice(string what, Tensor tensor, Device expected)
    {
        if (tensor.device_type != expected.type || (expected.type != DeviceType.CPU && tensor.device_index != expected.index))
            throw new InvalidInputException(what, $"is on {tensor.device} but the model (and the text) is on {expected}; move the whole batch with batch.To(device).");
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
