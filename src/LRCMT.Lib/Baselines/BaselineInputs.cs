using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.Models;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// The steps every baseline model takes from a <see cref="MultimodalBatch"/> to its streams: the batch is checked
/// against the model, the text runs through the encoder (without a graph when nothing upstream of the loss needs one),
/// and each stream travels with its bool mask.
/// </summary>
internal static class BaselineInputs
{
    /// <summary>Checks <paramref name="batch"/> like <c>LRCMTModel</c> does (shapes, devices, dtypes).</summary>
    public static void Validate(MultimodalBatch batch, long acousticFeatures, long visualFeatures, nn.Module reference)
        => BatchValidator.Validate(batch, acousticFeatures, visualFeatures, reference.parameters().FirstOrDefault());

    /// <summary>The encoder's last hidden state (float32) with the text mask.</summary>
    /// <param name="encoder">The text encoder.</param>
    /// <param name="batch">The batch.</param>
    /// <param name="needsGraph">Whether gradients must flow through the encoder even when none of its own parameters trains
    /// (MAG's gate sits inside it); otherwise a fully frozen encoder runs without a graph, which saves most of its memory.</param>
    public static TextEncoderOutput Encode(TextEncoder encoder, MultimodalBatch batch, bool needsGraph)
    {
        var trains = needsGraph || encoder.parameters().Any(p => p.requires_grad);
        using var gradientMode = trains ? null : no_grad();
        var output = encoder.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var states = output.LastHiddenState;
        var ids = batch.InputIds.shape;
        if (states.dim() != 3 || states.shape[0] != ids[0] || states.shape[1] != ids[1] || states.shape[2] != encoder.HiddenSize)
            throw new ShapeMismatchException("text encoder output", $"[{ids[0]}, {ids[1]}, {encoder.HiddenSize}]", states.shape);
        // A bf16/fp16 base (BasePrecision) hands back its own dtype; the fusion computes in float32.
        return states.dtype == ScalarType.Float32 && output.PooledOutput is not { dtype: not ScalarType.Float32 }
            ? output
            : new TextEncoderOutput(states.to(ScalarType.Float32), output.PooledOutput?.to(ScalarType.Float32));
    }

    /// <summary>A modality's values with its mask as bool.</summary>
    public static MaskedSequence Stream(Tensor values, Tensor mask) => new(values, mask.to(ScalarType.Bool));

    /// <summary>[batch, 1] → [batch] for a regression score; class logits stay [batch, classes].</summary>
    public static Tensor Shape(Tensor prediction, int outputs) => outputs == 1 ? prediction.squeeze(1) : prediction;
}
