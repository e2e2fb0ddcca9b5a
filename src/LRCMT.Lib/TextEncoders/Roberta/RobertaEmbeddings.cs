using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Roberta;

/// <summary>
/// Hugging Face's <c>RobertaEmbeddings</c>: as BERT's, but positions count the real (non-padding) tokens from
/// <c>padding_idx + 1</c>, and padding tokens get position <c>padding_idx</c> (<c>cumsum(ids != pad) * (ids != pad) + pad</c>).
/// </summary>
internal sealed class RobertaEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly MaskDropoutModule dropout;
    private readonly long paddingIndex;

    public RobertaEmbeddings(BertConfig config, Device? device = null) : base("embeddings")
    {
        paddingIndex = config.PadTokenId;
        word_embeddings = BaseLoading.NewEmbedding(config.VocabSize, config.HiddenSize, config.PadTokenId, device);
        position_embeddings = BaseLoading.NewEmbedding(config.MaxPositionEmbeddings, config.HiddenSize, config.PadTokenId, device);
        token_type_embeddings = BaseLoading.NewEmbedding(config.TypeVocabSize, config.HiddenSize, null, device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        dropout = new MaskDropoutModule(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Where the model's weights live (the word table's device).</summary>
    public Device Device => word_embeddings.weight!.device;

    /// <param name="inputIds">[batch, seq] int64, already validated.</param>
    /// <param name="tokenTypeIds">[batch, seq] int64, already validated.</param>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using Scalar padding = paddingIndex;
        var real = inputIds.ne(padding).to_type(ScalarType.Int64);
        var positions = real.cumsum(1).mul(real).add(padding, One);
        var sum = word_embeddings.call(inputIds).add(token_type_embeddings.call(tokenTypeIds), One).add(position_embeddings.call(positions), One);
        return dropout.call(LayerNorm.call(sum)).MoveToOuterDisposeScope();
    }
}
