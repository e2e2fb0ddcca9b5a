using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LRCMT.TextEncoders;
using static TorchSharp.torch;

namespace LRCMT.Models.Persistence;

/// <summary>
/// The SHA-256 of a text encoder's weights (and, in <see cref="ComputeConfiguration"/>, of its configuration), recorded when a model is saved so it can refuse a different base encoder
/// on load: over the untuned encoder's state dict, for every entry in ordinal key order, the UTF-8 key, a 0 byte, the
/// dtype name, a 0 byte, each dimension as a little-endian int64, then the raw little-endian element bytes; lower-case hex.
/// </summary>
internal static class EncoderFingerprint
{
    public static string Compute(TextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> dimension = stackalloc byte[sizeof(long)];
        foreach (var (key, value) in encoder.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(key));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(value.dtype.ToString()));
            hash.AppendData([0]);
            foreach (var size in value.shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(dimension, size);
                hash.AppendData(dimension);
            }
            using var scope = NewDisposeScope();
            var contiguous = value.detach().cpu().contiguous();
            hash.AppendData(contiguous.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The SHA-256 of what an encoder computes besides its weights: its type and, for BERT and RoBERTa, every value of the
    /// <c>config.json</c> it was built from (activation, LayerNorm epsilon, heads, sizes, pad id, pooler), as one
    /// <c>name=value</c> line each in the order below (numbers in invariant round-trip form). The same weights under an
    /// edited <c>config.json</c> (another activation, epsilon or head count) compute something else, and hash differently.
    /// </summary>
    public static string ComputeConfiguration(TextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var text = new StringBuilder("type=").Append(encoder.GetType().FullName).Append('\n');
        var config = encoder switch { BertModel bert => bert.Config, RobertaModel roberta => roberta.Config, _ => null };
        if (config is not null)
        {
            (string Name, object Value)[] fields =
            [
                ("vocab_size", config.VocabSize), ("hidden_size", config.HiddenSize), ("num_hidden_layers", config.NumHiddenLayers),
                ("num_attention_heads", config.NumAttentionHeads), ("intermediate_size", config.IntermediateSize),
                ("hidden_act", config.HiddenAct), ("hidden_dropout_prob", config.HiddenDropoutProb),
                ("attention_probs_dropout_prob", config.AttentionProbsDropoutProb), ("max_position_embeddings", config.MaxPositionEmbeddings),
                ("type_vocab_size", config.TypeVocabSize), ("layer_norm_eps", config.LayerNormEps), ("pad_token_id", config.PadTokenId),
                ("add_pooling_layer", config.AddPoolingLayer),
            ];
            foreach (var (name, value) in fields)
                text.Append(name).Append('=').Append(value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
