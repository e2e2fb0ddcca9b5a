using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LRCMT.Tests.Models;

/// <summary>
/// A per-token stand-in for BERT (embedding → tanh(query(x))), small enough for fast model tests. Its projection
/// is called <c>query</c> so LoRA targets it as it would BERT's.
/// </summary>
internal sealed class FakeTextEncoder : TextEncoder
{
    private readonly Module<Tensor, Tensor> word_embeddings;
    private Module<Tensor, Tensor> query;
    private readonly int _hidden;

    public FakeTextEncoder(int vocabulary = 30, int hidden = 12) : base(nameof(FakeTextEncoder))
    {
        _hidden = hidden;
        word_embeddings = Embedding(vocabulary, hidden);
        query = Linear(hidden, hidden);
        RegisterComponents();
    }

    public override int HiddenSize => _hidden;

    public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds) =>
        new(tanh(query.call(word_embeddings.call(inputIds))), null);
}
