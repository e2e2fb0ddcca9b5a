using LRCMT.Errors;
using LRCMT.Training;
using LRCMT.TextEncoders.Bert;
using LRCMT.TextEncoders.Roberta;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders;

/// <summary>
/// RoBERTa as Hugging Face's <c>RobertaModel</c> computes it, with the same parameter names (<c>embeddings.*</c>,
/// <c>encoder.layer.N.attention.self.query.weight</c>, …, <c>pooler.dense.*</c>). The Transformer layers and pooler are
/// BERT's; the embeddings number positions from <c>pad_token_id + 1</c> over the non-padding tokens, and there is one
/// token type. LoRA targets (<c>query</c>, <c>value</c>, <c>key</c>, <c>dense</c>) are named as in BERT.
/// Tokenize with <see cref="RobertaTextTokenizer"/>.
/// </summary>
public sealed class RobertaModel : TextEncoder
{
    private readonly RobertaEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    /// <summary>Builds a randomly initialised RoBERTa of the given shape (see <see cref="RobertaConfig"/>).</summary>
    /// <exception cref="InvalidConfigurationException">The config's values are inconsistent.</exception>
    public RobertaModel(BertConfig config) : this(config, null) { }

    /// <param name="config">The shape.</param>
    /// <param name="device">Where the weights are created (<c>meta</c>: shape only, see <see cref="BaseLoading"/>).</param>
    internal RobertaModel(BertConfig config, Device? device) : base("roberta")
    {
        RobertaConfig.Validate(config);
        Config = config;
        NativeHeap.EncoderLoading(); // before the weights exist: see NativeHeap's remarks
        embeddings = new RobertaEmbeddings(config, device);
        encoder = new BertEncoder(config, device);
        pooler = config.AddPoolingLayer ? new BertPooler(config, device) : null;
        RegisterComponents();
    }

    /// <summary>The shape and behaviour this model was built with.</summary>
    public BertConfig Config { get; }

    /// <inheritdoc />
    public override int HiddenSize => Config.HiddenSize;

    /// <summary>
    /// Loads a Hugging Face checkpoint folder: <c>config.json</c> (<c>model_type</c> roberta) plus <c>model.safetensors</c>,
    /// saved from <c>RobertaModel</c> (keys without prefix) or a task model (keys under <c>roberta.</c>; heads such as
    /// <c>lm_head.*</c> and <c>classifier.*</c> are skipped and logged). Names and shapes are checked before any weight is copied.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks <c>config.json</c> or <c>model.safetensors</c>.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a RoBERTa config.</exception>
    /// <exception cref="CorruptFileException">A file is truncated or corrupt, or only <c>pytorch_model.bin</c> is present.</exception>
    /// <exception cref="CheckpointMismatchException">Keys are missing or unexpected, or shapes differ.</exception>
    public static RobertaModel FromPretrained(string folder, ILogger? logger = null) => FromPretrained(folder, BaseDType.Float32, logger);

    /// <summary>
    /// Loads a checkpoint folder (as <see cref="FromPretrained(string, ILogger?)"/>) with the base held in
    /// <paramref name="dtype"/> from the start, weight by weight (as BertModel's overload with a <see cref="BaseDType"/> does).
    /// </summary>
    /// <param name="folder">The checkpoint folder.</param>
    /// <param name="dtype">How the base's weights are held.</param>
    /// <param name="logger">Receives one line naming the skipped keys, if any.</param>
    /// <inheritdoc cref="FromPretrained(string, ILogger?)" path="/exception"/>
    public static RobertaModel FromPretrained(string folder, BaseDType dtype, ILogger? logger = null)
    {
        NativeHeap.EncoderLoading(); // before the checkpoint is read: see NativeHeap's remarks
        var (model, skipped) = RobertaCheckpointLoader.Load(folder, dtype);
        if (skipped.Count > 0)
            logger?.LogInformation("Skipped {Count} checkpoint keys that are not part of RobertaModel (task heads): {Keys}", skipped.Count, string.Join(", ", skipped));
        return model;
    }

    /// <summary>Encodes a batch.</summary>
    /// <param name="inputIds">[batch, seq] int64 ids below the vocabulary size; seq at most <see cref="RobertaConfig.MaxSequenceLength"/>.</param>
    /// <param name="attentionMask">[batch, seq], 1/true on real tokens (bool, integer or float).</param>
    /// <param name="tokenTypeIds">[batch, seq] int64 (all 0: RoBERTa has one type), or null.</param>
    /// <returns>The last hidden state [batch, seq, hidden] and, when the model has a pooler, the pooled output [batch, hidden].</returns>
    /// <exception cref="ShapeMismatchException">An input has the wrong rank, its shape differs from the ids', or the sequence is too long.</exception>
    /// <exception cref="InvalidInputException">Ids are not int64 or lie outside the vocabulary / type table, or an input is on another device than the model.</exception>
    public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        var longest = RobertaConfig.MaxSequenceLength(Config);
        if (inputIds.dim() == 2 && inputIds.size(1) > longest)
            throw new ShapeMismatchException(
                "input ids", $"[batch, 1..{longest}] (positions run from pad_token_id + 1 = {Config.PadTokenId + 1} to {Config.MaxPositionEmbeddings - 1})", inputIds.shape);
        BertInputValidator.Validate(Config, embeddings.Device, inputIds, attentionMask, tokenTypeIds);
        NativeHeap.EncoderForward(training, is_grad_enabled(), inputIds.device_type == DeviceType.CPU);
        using var scope = NewDisposeScope();
        var types = tokenTypeIds ?? zeros_like(inputIds);
        var hidden = embeddings.call(inputIds, types);
        var last = encoder.call(hidden, BertModel.AdditiveMask(attentionMask, hidden.dtype));
        var pooled = pooler?.call(last);
        return new TextEncoderOutput(last.MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope());
    }
}
