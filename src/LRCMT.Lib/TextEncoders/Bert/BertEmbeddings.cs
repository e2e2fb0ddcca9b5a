using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>Word + position + token type embeddings, then LayerNorm and dropout (Hugging Face's <c>BertEmbeddings</c>).</summary>
internal sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly MaskDropoutModule dropout;

    public BertEmbeddings(BertConfig config, Device? device = null) : base("embeddings")
    {
        word_embeddings = BaseLoading.NewEmbedding(config.VocabSize, config.HiddenSize, config.PadTokenId, device);
        position_embeddings = BaseLoading.NewEmbedding(config.MaxPositionEmbeddings, config.HiddenSize, null, device);
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
        var positions = Arange(inputIds.size(1), ScalarType.Int64, inputIds.device).unsqueeze(0);
        var sum = word_embeddings.call(inputIds).add(token_type_embeddings.call(tokenTypeIds), One).add(position_embeddings.call(positions), One);
        return dropout.call(LayerNorm.call(sum)).MoveToOuterDisposeScope();
    }
}
