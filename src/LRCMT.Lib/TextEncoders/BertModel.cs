using LRCMT.Errors;
using LRCMT.TextEncoders.Bert;
using LRCMT.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// BERT as Hugging Face's <c>BertModel</c> computes it, with the same parameter names
/// (<c>embeddings.*</c>, <c>encoder.layer.N.attention.self.query.weight</c>, …, <c>pooler.dense.*</c>), so Hugging Face
/// checkpoints and PEFT adapters load without a key mapping. The attention and feed-forward projections
/// (<c>query</c>, <c>key</c>, <c>value</c>, <c>dense</c>) are what LoRA targets.
/// </summary>
public sealed class BertModel : TextEncoder
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    /// <summary>Builds a randomly initialised BERT of the given shape (load weights with <see cref="FromPretrained(string, ILogger?)"/> or a state dict).</summary>
    /// <exception cref="InvalidConfigurationException">The config's values are inconsistent.</exception>
    public BertModel(BertConfig config) : this(config, null) { }

    /// <param name="config">The shape.</param>
    /// <param name="device">Where the weights are created; <c>meta</c> builds the shape without memory, for loaders that
    /// put each weight in place in its final dtype (<see cref="BaseLoading"/>).</param>
    internal BertModel(BertConfig config, Device? device) : base("bert")
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        NativeHeap.EncoderLoading(); // before the weights exist: see NativeHeap's remarks
        embeddings = new BertEmbeddings(config, device);
        encoder = new BertEncoder(config, device);
        pooler = config.AddPoolingLayer ? new BertPooler(config, device) : null;
        RegisterComponents();
    }

    /// <summary>The shape and behaviour this model was built with.</summary>
    public BertConfig Config { get; }

    /// <summary>
    /// Whether forward also checks that ids lie inside the vocabulary and type table when the inputs are on an
    /// accelerator. Off by default: the check reads a min/max back to the host, a synchronisation that stalls the
    /// GPU stream every step. CPU inputs are always checked (reading them is free); with this off, an out-of-range
    /// id on CUDA surfaces as libtorch's index error (a device-side assert) instead of <see cref="InvalidInputException"/>.
    /// </summary>
    public bool ValidateIdsOnDevice { get; set; }

    /// <inheritdoc />
    public override int HiddenSize => Config.HiddenSize;

    /// <summary>
    /// Loads a Hugging Face checkpoint folder: <c>config.json</c> plus <c>model.safetensors</c>, saved from
    /// <c>BertModel</c> (keys without prefix) or from a task model (keys under <c>bert.</c>). Task heads
    /// (<c>cls.*</c>, <c>classifier.*</c>, …) are skipped and logged; a checkpoint without pooler weights gives a
    /// model without pooler. Names and shapes are checked before any weight is copied.
    /// </summary>
    /// <param name="folder">The checkpoint folder.</param>
    /// <param name="logger">Receives one line naming the skipped keys, if any.</param>
    /// <exception cref="FileNotFoundException">The folder lacks <c>config.json</c> or a weights file.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a BERT config.</exception>
    /// <exception cref="CorruptFileException">A file is truncated or corrupt (<c>pytorch_model.bin</c> is read when there is no <c>model.safetensors</c>).</exception>
    /// <exception cref="CheckpointMismatchException">Keys are missing or unexpected, or shapes differ.</exception>
    public static BertModel FromPretrained(string folder, ILogger? logger = null) => FromPretrained(folder, BaseDType.Float32, logger);

    /// <summary>
    /// Loads a Hugging Face checkpoint folder (as <see cref="FromPretrained(string, ILogger?)"/>) with the base held in
    /// <paramref name="dtype"/> from the start: each weight is read and converted (bf16, fp16) or quantized
    /// (<see cref="BaseDType.Int8"/>) one at a time, so the model never exists in float32 as a whole. A half or int8 base
    /// is frozen (every parameter has <c>requires_grad = false</c>); inject LoRA to train it.
    /// </summary>
    /// <param name="folder">The checkpoint folder.</param>
    /// <param name="dtype">How the base's weights are held.</param>
    /// <param name="logger">Receives one line naming the skipped keys, if any.</param>
    /// <exception cref="FileNotFoundException">The folder lacks <c>config.json</c> or a weights file.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a BERT config, or <paramref name="dtype"/> is not a named value.</exception>
    /// <exception cref="CorruptFileException">A file is truncated or corrupt.</exception>
    /// <exception cref="CheckpointMismatchException">Keys are missing or unexpected, or shapes differ.</exception>
    public static BertModel FromPretrained(string folder, BaseDType dtype, ILogger? logger = null)
    {
        NativeHeap.EncoderLoading(); // before the checkpoint is read: see NativeHeap's remarks
        var (model, skipped) = BertCheckpointLoader.Load(folder, dtype);
        if (skipped.Count > 0)
            logger?.LogInformation("Skipped {Count} checkpoint keys that are not part of BertModel (task heads): {Keys}", skipped.Count, string.Join(", ", skipped));
        return model;
    }

    /// <summary>Encodes a batch.</summary>
    /// <param name="inputIds">[batch, seq] int64 ids below <see cref="BertConfig.VocabSize"/>; seq at most <see cref="BertConfig.MaxPositionEmbeddings"/>.</param>
    /// <param name="attentionMask">[batch, seq], 1/true on real tokens (bool, integer or float).</param>
    /// <param name="tokenTypeIds">[batch, seq] int64 segment ids, or null for all zeros.</param>
    /// <returns>The last hidden state [batch, seq, hidden] and, when the model has a pooler, the pooled output [batch, hidden].</returns>
    /// <exception cref="ShapeMismatchException">An input has the wrong rank, its shape differs from the ids', or the sequence is too long.</exception>
    /// <exception cref="InvalidInputException">Ids are not int64 or lie outside the vocabulary / type table (checked on CPU inputs, and on
    /// accelerator inputs when <see cref="ValidateIdsOnDevice"/> is set), or an input is on another device than the model.</exception>
    public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        BertInputValidator.Validate(Config, embeddings.Device, inputIds, attentionMask, tokenTypeIds, ValidateIdsOnDevice);
        NativeHeap.EncoderForward(training, is_grad_enabled(), inputIds.device_type == DeviceType.CPU);
        using var scope = NewDisposeScope();
        var types = tokenTypeIds ?? zeros_like(inputIds);
        var hidden = embeddings.call(inputIds, types);
        var additiveMask = AdditiveMask(attentionMask, hidden.dtype);
        var last = encoder.call(hidden, additiveMask);
        var pooled = pooler?.call(last);
        return new TextEncoderOutput(last.MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// [batch, seq] mask (1 = real) to the [batch, 1, 1, seq] term added to attention scores: 0 on real keys and the
    /// dtype's most negative value on padded keys, as Hugging Face does, so padded keys get zero probability.
    /// </summary>
    internal static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype)
    {
        var keep = attentionMask.to_type(dtype).unsqueeze(1).unsqueeze(2);
        using Scalar lowest = finfo(dtype).min;
        return keep.neg().add(One, One).mul(lowest); // (1 − keep)·min, with held Scalars (RootedScalars)
    }
}
