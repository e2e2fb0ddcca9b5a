using LRCMT.TextEncoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Bert;

/// <summary>
/// BERT as a TorchSharp user would write it in one file with no validation, no adapter hooks and no per-module
/// dispose scopes: the yardstick for the library's own overhead. Same shapes and operations as <see cref="BertModel"/>
/// (separate q/k/v projections, fused attention, GELU, post-LayerNorm), so the difference is the library's plumbing.
/// </summary>
public sealed class PlainBert : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding words, positions, types;
    private readonly LayerNorm embedNorm;
    private readonly ModuleList<PlainLayer> layers;
    private readonly double dropout;

    public PlainBert(BertConfig config) : base("plain_bert")
    {
        words = nn.Embedding(config.VocabSize, config.HiddenSize);
        positions = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        types = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        embedNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new PlainLayer(config)).ToArray());
        dropout = config.HiddenDropoutProb;
        RegisterComponents();
    }

    /// <param name="ids">[batch, seq] int64.</param>
    /// <param name="mask">[batch, seq], 1 = real.</param>
    public override Tensor forward(Tensor ids, Tensor mask)
    {
        var position = arange(ids.shape[1], device: ids.device).unsqueeze(0);
        var x = words.call(ids) + positions.call(position) + types.call(zeros_like(ids));
        x = nn.functional.dropout(embedNorm.call(x), dropout, training);
        var bias = (1.0 - mask.to(x.dtype)).mul(-1e9).view(ids.shape[0], 1, 1, ids.shape[1]);
        foreach (var layer in layers) x = layer.call(x, bias);
        return x;
    }

    private sealed class PlainLayer : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly Linear query, key, value, attnOut, up, down;
        private readonly LayerNorm attnNorm, ffnNorm;
        private readonly long heads;
        private readonly double dropout, attnDropout;

        public PlainLayer(BertConfig c) : base("layer")
        {
            query = nn.Linear(c.HiddenSize, c.HiddenSize);
            key = nn.Linear(c.HiddenSize, c.HiddenSize);
            value = nn.Linear(c.HiddenSize, c.HiddenSize);
            attnOut = nn.Linear(c.HiddenSize, c.HiddenSize);
            up = nn.Linear(c.HiddenSize, c.IntermediateSize);
            down = nn.Linear(c.IntermediateSize, c.HiddenSize);
            attnNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
            ffnNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
            heads = c.NumAttentionHeads;
            dropout = c.HiddenDropoutProb;
            attnDropout = c.AttentionProbsDropoutProb;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor bias)
        {
            long b = x.shape[0], n = x.shape[1], d = x.shape[2];
            Tensor Heads(Tensor t) => t.view(b, n, heads, d / heads).transpose(1, 2);
            var context = nn.functional.scaled_dot_product_attention(Heads(query.call(x)), Heads(key.call(x)), Heads(value.call(x)), bias, training ? attnDropout : 0)
                .transpose(1, 2).reshape(b, n, d);
            x = attnNorm.call(x + nn.functional.dropout(attnOut.call(context), dropout, training));
            var hidden = down.call(nn.functional.gelu(up.call(x)));
            return ffnNorm.call(x + nn.functional.dropout(hidden, dropout, training));
        }
    }
}
