using static TorchSharp.torch;

namespace LRCMT.TextEncoders.Bert;

/// <summary>
/// Separates the encoder's own weights from the rest of a Hugging Face checkpoint: task models
/// (<c>BertForSequenceClassification</c>, <c>BertForMaskedLM</c>, …) keep the encoder under <c>bert.</c> and add heads
/// (<c>cls.*</c>, <c>classifier.*</c>) beside it.
/// </summary>
internal static class BertCheckpointKeys
{
    public const string TaskModelPrefix = "bert.";
    public const string PoolerPrefix = "pooler.";
    private static readonly string[] EncoderPrefixes = ["embeddings.", "encoder.", PoolerPrefix];

    // Buffers older transformers versions saved; BertModel recomputes them.
    private static readonly HashSet<string> RecomputedBuffers = ["embeddings.position_ids", "embeddings.token_type_ids"];

    /// <returns>The encoder's weights under <see cref="BertModel"/> names, and every other key (sorted), which is skipped.</returns>
    public static (Dictionary<string, Tensor> Encoder, IReadOnlyList<string> Skipped) Split(IReadOnlyDictionary<string, Tensor> checkpoint) =>
        Split(checkpoint, TaskModelPrefix);

    /// <param name="checkpoint">All tensors of the file.</param>
    /// <param name="taskModelPrefix">Where task models of this family keep the encoder (<c>bert.</c>, <c>roberta.</c>).</param>
    public static (Dictionary<string, Tensor> Encoder, IReadOnlyList<string> Skipped) Split(IReadOnlyDictionary<string, Tensor> checkpoint, string taskModelPrefix)
    {
        var (names, skipped) = SplitNames(checkpoint.Keys, taskModelPrefix);
        return (names.ToDictionary(n => n.Key, n => checkpoint[n.Value]), skipped);
    }

    /// <summary>The same split on key names alone (for files read tensor by tensor).</summary>
    /// <returns>File key by <see cref="BertModel"/> name, and every other key (sorted).</returns>
    public static (Dictionary<string, string> Encoder, IReadOnlyList<string> Skipped) SplitNames(IEnumerable<string> keys, string taskModelPrefix)
    {
        var all = keys.ToList();
        var prefixed = all.Any(k => k.StartsWith(taskModelPrefix, StringComparison.Ordinal));
        var encoder = new Dictionary<string, string>();
        var skipped = new List<string>();
        foreach (var key in all)
        {
            var name = !prefixed ? key : key.StartsWith(taskModelPrefix, StringComparison.Ordinal) ? key[taskModelPrefix.Length..] : null;
            if (name is not null && EncoderPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) && !RecomputedBuffers.Contains(name))
                encoder[name] = key;
            else
                skipped.Add(key);
        }

        skipped.Sort(StringComparer.Ordinal);
        return (encoder, skipped);
    }
}
