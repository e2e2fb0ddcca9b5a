using static TorchSharp.torch;

namespace LRCMT.Data;

/// <summary>
/// One padded mini-batch of the three modalities, ready for <c>LRCMTModel</c>.
/// Masks follow the Hugging Face convention everywhere in this library: <b>true / 1 = real position</b>, false / 0 = padding.
/// </summary>
/// <param name="InputIds">Token ids [batch, textLen], int64.</param>
/// <param name="AttentionMask">Text mask [batch, textLen], int64 or bool.</param>
/// <param name="TokenTypeIds">Segment ids [batch, textLen], int64, or null for all zeros.</param>
/// <param name="Acoustic">Acoustic features [batch, acousticLen, acousticDim], float32.</param>
/// <param name="AcousticMask">Acoustic mask [batch, acousticLen], bool.</param>
/// <param name="Visual">Visual features [batch, visualLen, visualDim], float32.</param>
/// <param name="VisualMask">Visual mask [batch, visualLen], bool.</param>
/// <param name="Labels">Targets [batch] float32 (regression) or int64 (classification), or null at inference.</param>
/// <param name="Ids">Sample identifiers (e.g. MMSA's "video$_$clip"), one per row.</param>
public sealed record MultimodalBatch(
    Tensor InputIds,
    Tensor AttentionMask,
    Tensor? TokenTypeIds,
    Tensor Acoustic,
    Tensor AcousticMask,
    Tensor Visual,
    Tensor VisualMask,
    Tensor? Labels,
    IReadOnlyList<string> Ids) : IDisposable
{
    /// <summary>Number of samples in the batch.</summary>
    public long Size => InputIds.shape[0];

    /// <summary>Moves every tensor to <paramref name="device"/> (returns a new batch; this one is unchanged).</summary>
    public MultimodalBatch To(Device device) => new(
        InputIds.to(device), AttentionMask.to(device), TokenTypeIds?.to(device),
        Acoustic.to(device), AcousticMask.to(device), Visual.to(device), VisualMask.to(device),
        Labels?.to(device), Ids);

    /// <summary>Disposes every tensor of the batch.</summary>
    public void Dispose()
    {
        InputIds.Dispose(); AttentionMask.Dispose(); TokenTypeIds?.Dispose();
        Acoustic.Dispose(); AcousticMask.Dispose(); Visual.Dispose(); VisualMask.Dispose();
        Labels?.Dispose();
    }
}
