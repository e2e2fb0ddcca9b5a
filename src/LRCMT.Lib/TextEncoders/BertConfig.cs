using System.Text.Json;
using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.TextEncoders;

/// <summary>
/// Shape and behaviour of a <see cref="BertModel"/>, as Hugging Face's <c>BertConfig</c> (<c>config.json</c>) states them.
/// Plain data: the defaults are Hugging Face's <c>BertConfig()</c> defaults (bert-base-uncased).
/// </summary>
public sealed record BertConfig
{
    /// <summary>Activations BERT checkpoints use, by their Hugging Face <c>hidden_act</c> names.</summary>
    public static IReadOnlyList<string> SupportedActivations { get; } = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"];

    /// <summary>Number of token ids (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary>Width of every token state (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number of Transformer layers (<c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Attention heads per layer (<c>num_attention_heads</c>); must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward block (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>
    /// Feed-forward activation (<c>hidden_act</c>): <c>gelu</c> (exact, erf), <c>gelu_new</c> or <c>gelu_pytorch_tanh</c>
    /// (tanh approximation), or <c>relu</c>.
    /// </summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout after embeddings and each residual projection (<c>hidden_dropout_prob</c>).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on attention probabilities (<c>attention_probs_dropout_prob</c>).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Length of the position table, the longest sequence accepted (<c>max_position_embeddings</c>).</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Number of segment (token type) ids (<c>type_vocab_size</c>).</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>LayerNorm epsilon (<c>layer_norm_eps</c>).</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Id of the padding token; its embedding row receives no gradient (<c>pad_token_id</c>).</summary>
    public int PadTokenId { get; init; }

    /// <summary>
    /// Whether the model has the pooler (<c>pooler.dense</c>, tanh over the first token). Not part of
    /// <c>config.json</c>: Hugging Face passes it to the model (<c>add_pooling_layer</c>); loaders turn it off when a
    /// checkpoint has no pooler weights.
    /// </summary>
    public bool AddPoolingLayer { get; init; } = true;

    /// <summary>Hugging Face's <c>BertConfig()</c> defaults: 30522 words, 768 wide, 12 layers, 12 heads, 3072 FFN, 512 positions.</summary>
    public static BertConfig Base() => new();

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c>; keys it does not name keep Hugging Face's defaults. The file is read
    /// through the bounded input reader (a regular file of at most 16 MiB, strict UTF-8; docs/reliability.md).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file (a FIFO, a device, a link loop) or is over its size limit.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8 JSON, repeats a key, or a key has the wrong JSON type.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a BERT config, or its values are inconsistent.</exception>
    public static BertConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!IO.InputFile.IsPresent(path)) throw new FileNotFoundException($"BERT config '{path}' does not exist.", path);
        return FromJson(IO.InputFile.ReadAllText(path, IO.InputKind.ModelConfig), path);
    }

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptFileException">The text is not JSON, repeats a key, or a key has the wrong JSON type.</exception>
    /// <exception cref="InvalidConfigurationException">
    /// The config is not a BERT encoder config (another <c>model_type</c> or position embedding, or a flag that makes it a
    /// decoder: <c>is_decoder</c>, <c>add_cross_attention</c>, <c>is_encoder_decoder</c>, or <c>pruned_heads</c>), or its values are inconsistent.
    /// </exception>
    public static BertConfig FromJson(string json, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        Tokenization.JsonFields.RequireStrict(System.Text.Encoding.UTF8.GetBytes(json), source);
        JsonDocument document;
        try
        {
            // A repeated key would leave which value counts to the parser: refused, as for every other JSON input.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(source, e.BytePositionInLine, "not valid JSON: " + e.Message, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CorruptFileException(source, null, "a config must be a JSON object.");
            var reader = new BertConfigJson(root, source);

            var modelType = reader.String("model_type", null);
            if (modelType is not null && modelType != "bert")
                throw new InvalidConfigurationException(
                    $"BERT config '{source}'",
                    $"model_type is '{modelType}', but only 'bert' checkpoints are supported (its positions, embeddings or attention differ).");
            var positionType = reader.String("position_embedding_type", "absolute");
            if (positionType != "absolute")
                throw new InvalidConfigurationException(
                    $"BERT config '{source}'", $"position_embedding_type '{positionType}' is not supported; only 'absolute' is.");
            SettingRules.ThrowIfAny($"BERT config '{source}'", UnsupportedFlags(reader));

            var defaults = new BertConfig();
            var config = new BertConfig
            {
                VocabSize = reader.Int("vocab_size", defaults.VocabSize),
                HiddenSize = reader.Int("hidden_size", defaults.HiddenSize),
                NumHiddenLayers = reader.Int("num_hidden_layers", defaults.NumHiddenLayers),
                NumAttentionHeads = reader.Int("num_attention_heads", defaults.NumAttentionHeads),
                IntermediateSize = reader.Int("intermediate_size", defaults.IntermediateSize),
                HiddenAct = reader.String("hidden_act", defaults.HiddenAct)!,
                HiddenDropoutProb = reader.Double("hidden_dropout_prob", defaults.HiddenDropoutProb),
                AttentionProbsDropoutProb = reader.Double("attention_probs_dropout_prob", defaults.AttentionProbsDropoutProb),
                MaxPositionEmbeddings = reader.Int("max_position_embeddings", defaults.MaxPositionEmbeddings),
                TypeVocabSize = reader.Int("type_vocab_size", defaults.TypeVocabSize),
                LayerNormEps = reader.Double("layer_norm_eps", defaults.LayerNormEps),
                PadTokenId = reader.Int("pad_token_id", defaults.PadTokenId),
            };
            config.Validate($"BERT config '{source}'");
            return config;
        }
    }

    // Flags that turn Hugging Face's BERT into a decoder or another shape; this library computes the encoder only, so a
    // config that sets one describes a model it would run differently (silently, if the flag were ignored).
    private static List<SettingProblem> UnsupportedFlags(BertConfigJson reader)
    {
        var problems = new List<SettingProblem>();
        foreach (var (flag, meaning) in new[]
                 {
                     ("is_decoder", "a causal (left-to-right) attention mask"),
                     ("add_cross_attention", "cross-attention layers over an encoder's output"),
                     ("is_encoder_decoder", "an encoder-decoder model"),
                 })
        {
            if (reader.Bool(flag, false))
                problems.Add(new SettingProblem(flag, $"is true ({meaning}); only BERT encoders are supported, so the model would compute something else."));
        }
        if (reader.Count("pruned_heads") > 0)
            problems.Add(new SettingProblem("pruned_heads", "is not empty; pruned attention heads are not supported (every layer must keep num_attention_heads heads)."));
        return problems;
    }

    /// <summary>Largest accepted <see cref="VocabSize"/> (multilingual vocabularies stay near 250,000).</summary>
    public const int MaxVocabSize = Tokenization.TokenizerLimits.MaxVocabularySize;

    /// <summary>Largest accepted <see cref="HiddenSize"/> and <see cref="IntermediateSize"/> (BERT-large uses 1,024 and 4,096).</summary>
    public const int MaxWidth = 1 << 16;

    /// <summary>Largest accepted <see cref="NumHiddenLayers"/>, <see cref="NumAttentionHeads"/> and <see cref="TypeVocabSize"/>.</summary>
    public const int MaxCount = 1024;

    /// <summary>Largest accepted <see cref="MaxPositionEmbeddings"/>.</summary>
    public const int MaxPositions = Tokenization.TokenizerLimits.MaxSequenceLength;

    /// <summary>Largest accepted parameter count of the whole model (4 billion floats, 16 GB), checked before anything is allocated.</summary>
    public const long MaxParameters = 4_000_000_000;

    /// <summary>Parameter count of a model of this config (pooler included when <see cref="AddPoolingLayer"/>), in 64 bits.</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, i = IntermediateSize;
        long embeddings = ((long)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
        return embeddings + NumHiddenLayers * layer + (AddPoolingLayer ? h * h + h : 0);
    }

    /// <summary>Checks every value and throws one exception listing all problems.</summary>
    /// <param name="what">Names the config in the message, e.g. its file.</param>
    /// <exception cref="InvalidConfigurationException">At least one value is out of range.</exception>
    public void Validate(string what = "BERT config")
    {
        // The upper bounds stop a corrupt or hostile config from allocating its sizes.
        var problems = SettingRules.Collect(
            SettingRules.InRange("vocab_size", VocabSize, 1, MaxVocabSize),
            SettingRules.InRange("hidden_size", HiddenSize, 1, MaxWidth),
            SettingRules.InRange("num_hidden_layers", NumHiddenLayers, 1, MaxCount),
            SettingRules.InRange("num_attention_heads", NumAttentionHeads, 1, MaxCount),
            SettingRules.InRange("intermediate_size", IntermediateSize, 1, MaxWidth),
            SettingRules.InRange("max_position_embeddings", MaxPositionEmbeddings, 1, MaxPositions),
            SettingRules.InRange("type_vocab_size", TypeVocabSize, 1, Tokenization.TokenizerLimits.MaxTypeVocabularySize));
        if (problems.Count == 0 && ParameterCount() > MaxParameters)
            problems.Add(new("", $"the config describes {ParameterCount():N0} parameters, more than the {MaxParameters:N0} this library accepts."));
        problems.AddRange(SettingRules.Collect(
            SettingRules.HeadsDivideWidth("num_attention_heads", NumAttentionHeads, "hidden_size", HiddenSize),
            SupportedActivations.Contains(HiddenAct) ? null
                : new SettingProblem("hidden_act", $"must be one of {string.Join(", ", SupportedActivations)}, got '{HiddenAct}'"),
            SettingRules.Rate("hidden_dropout_prob", HiddenDropoutProb),
            SettingRules.Rate("attention_probs_dropout_prob", AttentionProbsDropoutProb),
            SettingRules.Positive("layer_norm_eps", LayerNormEps),
            SettingRules.InRange("pad_token_id", PadTokenId, 0, (long)VocabSize - 1)));
        SettingRules.ThrowIfAny(what, problems);
    }

    /// <summary>Typed reads of optional config keys; a key of the wrong JSON type is a corrupt file, named with its key.</summary>
    private readonly struct BertConfigJson(JsonElement root, string source)
    {
        public int Int(string key, int fallback) =>
            Get(key) is { } e ? e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Wrong(key, "an integer", e) : fallback;

        public double Double(string key, double fallback) =>
            Get(key) is { } e ? e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw Wrong(key, "a number", e) : fallback;

        public bool Bool(string key, bool fallback) =>
            Get(key) is { } e ? e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : throw Wrong(key, "true or false", e) : fallback;

        // The number of entries of an object or array value (0 when absent).
        public int Count(string key) => Get(key) switch
        {
            null => 0,
            { ValueKind: JsonValueKind.Object } e => e.EnumerateObject().Count(),
            { ValueKind: JsonValueKind.Array } e => e.GetArrayLength(),
            { } e => throw Wrong(key, "an object", e),
        };

        public string? String(string key, string? fallback) =>
            Get(key) is { } e ? e.ValueKind == JsonValueKind.String ? e.GetString() : throw Wrong(key, "a string", e) : fallback;

        // JSON null means "not set" in Hugging Face configs (e.g. pad_token_id: null), so it falls back to the default.
        private JsonElement? Get(string key) =>
            root.TryGetProperty(key, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;

        private CorruptFileException Wrong(string key, string expected, JsonElement actual) =>
            new(source, null, $"key '{key}' must be {expected} but is {actual.ValueKind} ({actual.GetRawText()}).");
    }
}
