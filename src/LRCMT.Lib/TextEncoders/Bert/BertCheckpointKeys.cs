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
    public static (Dictionary<string, Tensor> Encoder, IReadOnlyList<string> Skipped) Split(IReadOnlyDictionary<string, Tensor> checkpoint)
    {
        var prefixed = checkpoint.Keys.Any(k => k.StartsWith(TaskModelPrefix, StringComparison.Ordinal));
        var encoder = new Dictionary<string, Tensor>();
        var skipped = new List<string>();
        foreach (var (key, tensor) in checkpoint)
        {
            var name = !prefixed ? key : key.StartsWith(TaskModelPrefix, StringComparison.Ordinal) ? key[TaskModelPrefix.Length..] : null;
            if (name is not null && EncoderPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) && !RecomputedBuffers.Contains(name))
                encoder[name] = tensor;
            else
                skipped.Add(key);
        }

        skipped.Sort(StringComparer.Ordinal);
        return (encoder, skipped);
    }
}
