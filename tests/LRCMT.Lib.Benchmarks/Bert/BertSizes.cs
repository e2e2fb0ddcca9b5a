using LRCMT.TextEncoders;

namespace LRCMT.Benchmarks.Bert;

/// <summary>The two encoder sizes the benchmarks use (random weights; only the shapes matter for speed and memory).</summary>
public static class BertSizes
{
    /// <summary>all-MiniLM-L6-v2's shape: 6 layers, width 384, 12 heads, feed-forward 1536.</summary>
    public static BertConfig MiniLM() => new() { NumHiddenLayers = 6, HiddenSize = 384, NumAttentionHeads = 12, IntermediateSize = 1536 };

    /// <summary>bert-base-uncased's shape: 12 layers, width 768, 12 heads, feed-forward 3072.</summary>
    public static BertConfig Base() => BertConfig.Base();

    public static BertConfig Named(string name) => name switch
    {
        "minilm" => MiniLM(),
        "bert-base" => Base(),
        _ => throw new ArgumentException($"Unknown size '{name}' (minilm | bert-base)."),
    };
}
