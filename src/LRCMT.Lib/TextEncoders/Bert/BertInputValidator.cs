using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>
/// Checks a BERT forward call's inputs before libtorch sees them: a bad id would otherwise surface as a native
/// index error (or, on CUDA, a device-side assert) with no hint of which input was wrong.
/// </summary>
/// <remarks>
/// Sync-free by design: rank, shape, dtype and device checks read only tensor metadata. The id range check needs
/// the values (a min/max reduction read back to the host), so it runs only on CPU tensors, where reading is free,
/// and on an accelerator only when asked (<c>BertModel.ValidateIdsOnDevice</c>), since there it would stall the
/// stream on every forward. Batches built on the CPU and
/// checked there before they move (<see cref="ValidateIdRange"/>) keep the check without the stall; on an
/// accelerator an id outside the table shows up as libtorch's own index error.
/// </remarks>
internal static class BertInputValidator
{
    /// <param name="config">The model's config (vocabulary, type table and position table sizes).</param>
    /// <param name="modelDevice">Where the model's weights are; every input must be there too.</param>
    /// <param name="inputIds">[batch, seq] int64.</param>
    /// <param name="attentionMask">[batch, seq].</param>
    /// <param name="tokenTypeIds">[batch, seq] int64, or null.</param>
    /// <param name="rangeOnDevice">Also check id ranges of tensors that are not on the CPU (one host sync per call).</param>
    public static void Validate(BertConfig config, Device modelDevice, Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds, bool rangeOnDevice = false)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (inputIds.dim() != 2) throw new ShapeMismatchException("input ids", "[batch, seq]", inputIds.shape);
        var length = inputIds.size(1);
        if (inputIds.size(0) == 0 || length == 0 || length > config.MaxPositionEmbeddings)
            throw new ShapeMismatchException(
                "input ids",
                $"[at least 1, 1..{config.MaxPositionEmbeddings}] (the position table has {config.MaxPositionEmbeddings} rows)",
                inputIds.shape);
        CheckDevice("input ids", inputIds, modelDevice);
        CheckIdType("input ids", inputIds);

        var expected = ShapeMismatchException.Format(inputIds.shape) + " (the shape of the input ids)";
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ShapeMismatchException("attention mask", expected, attentionMask.shape);
        if (attentionMask.dtype is ScalarType.ComplexFloat32 or ScalarType.ComplexFloat64)
            throw new InvalidInputException("attention mask", $"element type must be bool, integer or float but is {attentionMask.dtype}.");
        CheckDevice("attention mask", attentionMask, modelDevice);

        if (tokenTypeIds is not null)
        {
            if (!tokenTypeIds.shape.SequenceEqual(inputIds.shape))
                throw new ShapeMismatchException("token type ids", expected, tokenTypeIds.shape);
            CheckDevice("token type ids", tokenTypeIds, modelDevice);
            CheckIdType("token type ids", tokenTypeIds);
        }
        ValidateIdRange(config, inputIds, tokenTypeIds, rangeOnDevice);
    }

    /// <summary>
    /// Checks that ids lie inside the vocabulary and the token type table. Reads values only from CPU tensors;
    /// tensors elsewhere are skipped unless <paramref name="onDevice"/> is set, so by default this never forces a
    /// device-to-host synchronisation.
    /// </summary>
    public static void ValidateIdRange(BertConfig config, Tensor inputIds, Tensor? tokenTypeIds, bool onDevice = false)
    {
        if (onDevice || inputIds.device_type == DeviceType.CPU) CheckRange("input ids", inputIds, config.VocabSize, "the vocabulary");
        if (tokenTypeIds is not null && (onDevice || tokenTypeIds.device_type == DeviceType.CPU))
            CheckRange("token type ids", tokenTypeIds, config.TypeVocabSize, "the token type table");
    }

    private static void CheckDevice(string what, Tensor input, Device modelDevice)
    {
        if (input.device_type != modelDevice.type || (modelDevice.type != DeviceType.CPU && input.device_index != modelDevice.index))
            throw new InvalidInputException(what, $"is on {input.device} but the model is on {modelDevice}; move one to the other with .to(device).");
    }

    private static void CheckIdType(string what, Tensor ids)
    {
        if (ids.dtype != ScalarType.Int64)
            throw new InvalidInputException(what, $"element type must be Int64 but is {ids.dtype}.");
    }

    private static void CheckRange(string what, Tensor ids, int count, string table)
    {
        using var min = ids.min();
        using var max = ids.max();
        var (low, high) = (min.item<long>(), max.item<long>());
        if (low < 0 || high >= count)
            throw new InvalidInputException(what, $"id {(low < 0 ? low : high)} is outside {table} [0, {count}).");
    }
}
