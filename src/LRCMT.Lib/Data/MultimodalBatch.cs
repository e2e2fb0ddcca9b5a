using LRCMT.Errors;
using static LRCMT.Interop.RootedScalars;
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

    /// <summary>
    /// A batch from your own tensors: token ids and their mask as a tokenizer gives them, and the acoustic and visual
    /// sequences zero-padded to a common length, with each sample's real length (the masks are built from the lengths).
    /// The batch takes the tensors as they are (no copy): disposing it disposes them.
    /// </summary>
    /// <param name="inputIds">Token ids [batch, textLen], int64.</param>
    /// <param name="attentionMask">Text mask [batch, textLen] (1 / true = real token), int64 or bool.</param>
    /// <param name="acoustic">Acoustic features [batch, acousticLen, acousticDim], floating point.</param>
    /// <param name="visual">Visual features [batch, visualLen, visualDim], floating point.</param>
    /// <param name="acousticLengths">Real frames per sample (each in [0, acousticLen]); null when no sample is padded.</param>
    /// <param name="visualLengths">Real frames per sample (each in [0, visualLen]); null when no sample is padded.</param>
    /// <param name="labels">Targets [batch] (float32 sentiment scores, or int64 classes), or null at inference.</param>
    /// <param name="ids">One name per sample, or null for "0", "1", … in row order.</param>
    /// <param name="tokenTypeIds">Segment ids [batch, textLen], int64, or null for all zeros.</param>
    /// <exception cref="ShapeMismatchException">A tensor's rank or batch size does not fit the others.</exception>
    /// <exception cref="InvalidInputException">Ids are not integers, features not floating point, or a length or the id count is out of range.</exception>
    public static MultimodalBatch FromTensors(
        Tensor inputIds, Tensor attentionMask, Tensor acoustic, Tensor visual,
        long[]? acousticLengths = null, long[]? visualLengths = null, Tensor? labels = null, IReadOnlyList<string>? ids = null,
        Tensor? tokenTypeIds = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentNullException.ThrowIfNull(acoustic);
        ArgumentNullException.ThrowIfNull(visual);
        if (inputIds.dim() != 2) throw new ShapeMismatchException(nameof(inputIds), "[batch, textLen]", inputIds.shape);
        if (inputIds.dtype != ScalarType.Int64)
            throw new InvalidInputException(nameof(inputIds), $"token ids must be int64, got {inputIds.dtype}.");
        long batch = inputIds.shape[0];
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ShapeMismatchException(nameof(attentionMask), $"[{batch}, {inputIds.shape[1]}] (the shape of {nameof(inputIds)})", attentionMask.shape);
        if (tokenTypeIds is not null && !tokenTypeIds.shape.SequenceEqual(inputIds.shape))
            throw new ShapeMismatchException(nameof(tokenTypeIds), $"[{batch}, {inputIds.shape[1]}] (the shape of {nameof(inputIds)})", tokenTypeIds.shape);
        if (labels is not null && (labels.dim() != 1 || labels.shape[0] != batch))
            throw new ShapeMismatchException(nameof(labels), $"[{batch}]", labels.shape);
        if (ids is not null && ids.Count != batch)
            throw new InvalidInputException(nameof(ids), $"expected one id per sample ({batch}), got {ids.Count}.");
        var acousticMask = FrameMask(nameof(acoustic), acoustic, acousticLengths, batch, nameof(acousticLengths));
        Tensor visualMask;
        try
        {
            visualMask = FrameMask(nameof(visual), visual, visualLengths, batch, nameof(visualLengths));
        }
        catch
        {
            acousticMask.Dispose();
            throw;
        }
        var names = ids ?? Enumerable.Range(0, (int)batch).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new MultimodalBatch(inputIds, attentionMask, tokenTypeIds, acoustic, acousticMask, visual, visualMask, labels, names);
    }

    /// <summary>The [batch, len] bool mask of a padded [batch, len, dim] sequence: true for the first length[i] frames of row i.</summary>
    private static Tensor FrameMask(string what, Tensor features, long[]? lengths, long batch, string lengthsName)
    {
        if (features.dim() != 3 || features.shape[0] != batch)
            throw new ShapeMismatchException(what, $"[{batch}, {what}Len, {what}Dim]", features.shape);
        if (!features.is_floating_point())
            throw new InvalidInputException(what, $"features must be floating point, got {features.dtype}.");
        long frames = features.shape[1];
        if (lengths is null) return ones(batch, frames, ScalarType.Bool, features.device);
        if (lengths.Length != batch)
            throw new InvalidInputException(lengthsName, $"expected one length per sample ({batch}), got {lengths.Length}.");
        for (int i = 0; i < lengths.Length; i++)
            if (lengths[i] < 0 || lengths[i] > frames)
                throw new InvalidInputException(lengthsName, $"sample {i} has length {lengths[i]}, outside [0, {frames}] (the padded length of {what}).");
        using var positions = Arange(frames, ScalarType.Int64, features.device).unsqueeze(0);
        using var real = tensor(lengths, device: features.device).unsqueeze(1);
        return positions.lt(real);
    }

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
