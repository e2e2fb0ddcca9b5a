using System.Text.Json.Nodes;
using LRCMT.Errors;

namespace LRCMT.TextEncoders;

/// <summary>
/// Reads RoBERTa configs. A RoBERTa encoder has BERT's shape (the same <see cref="BertConfig"/> fields); it differs in
/// its defaults (50265 words, 514 positions, one token type, <c>pad_token_id</c> 1, LayerNorm epsilon 1e-5) and in
/// how positions are numbered (see <see cref="RobertaModel"/>).
/// </summary>
public static class RobertaConfig
{
    /// <summary>roberta-base: 50265 words, 768 wide, 12 layers, 12 heads, 3072 FFN, 514 positions, pad id 1.</summary>
    public static BertConfig Base() => new()
    {
        VocabSize = 50265, MaxPositionEmbeddings = 514, TypeVocabSize = 1, PadTokenId = 1, LayerNormEps = 1e-5,
    };

    /// <summary>Reads a Hugging Face RoBERTa <c>config.json</c>; keys it does not name keep roberta-base's values.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFileException">The path is not a regular file (a FIFO, a device, a link loop) or is over its size limit.</exception>
    /// <exception cref="CorruptFileException">The file is not UTF-8 JSON, repeats a key, or a key has the wrong JSON type.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a RoBERTa encoder config, or its values are inconsistent.</exception>
    public static BertConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!IO.InputFile.IsPresent(path)) throw new FileNotFoundException($"RoBERTa config '{path}' does not exist.", path);
        return FromJson(IO.InputFile.ReadAllText(path, IO.InputKind.ModelConfig), path);
    }

    /// <summary>Parses the text of a Hugging Face RoBERTa <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptFileException">The text is not JSON, or a key has the wrong JSON type.</exception>
    /// <exception cref="InvalidConfigurationException">The config is not a RoBERTa config, or its values are inconsistent.</exception>
    public static BertConfig FromJson(string json, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        Tokenization.JsonFields.RequireStrict(System.Text.Encoding.UTF8.GetBytes(json), source);
        JsonObject root;
        try
        {
            // A repeated key is refused while parsing (JsonObject would otherwise throw ArgumentException on first access).
            root = JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new CorruptFileException(source, null, "a config must be a JSON object.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CorruptFileException(source, null, "not valid JSON: " + e.Message, e);
        }

        var modelType = root["model_type"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var text) => text,
            var other => throw new CorruptFileException(source, null, $"key 'model_type' must be a string but is {other.ToJsonString()}."),
        };
        if (modelType is not (null or "roberta"))
            throw new InvalidConfigurationException($"RoBERTa config '{source}'", $"model_type is '{modelType}', but only 'roberta' checkpoints load as RobertaModel.");
        // BertConfig reads the shape; RoBERTa's own defaults fill the keys the file leaves out.
        root.Remove("model_type");
        var defaults = Base();
        SetDefault(root, "vocab_size", defaults.VocabSize);
        SetDefault(root, "max_position_embeddings", defaults.MaxPositionEmbeddings);
        SetDefault(root, "type_vocab_size", defaults.TypeVocabSize);
        SetDefault(root, "pad_token_id", defaults.PadTokenId);
        SetDefault(root, "layer_norm_eps", defaults.LayerNormEps);
        var config = BertConfig.FromJson(root.ToJsonString(), source);
        Validate(config, $"RoBERTa config '{source}'");
        return config;
    }

    /// <summary>Checks what RoBERTa needs beyond BERT: room in the position table for positions from <c>pad_token_id + 1</c>.</summary>
    /// <exception cref="InvalidConfigurationException">The position table cannot hold even one token.</exception>
    public static void Validate(BertConfig config, string what = "RoBERTa config")
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate(what);
        if (MaxSequenceLength(config) < 1)
            throw new InvalidConfigurationException(
                what,
                $"max_position_embeddings {config.MaxPositionEmbeddings} leaves no position: RoBERTa numbers tokens from pad_token_id + 1 = {config.PadTokenId + 1}.");
    }

    /// <summary>The longest sequence a RoBERTa of this config accepts: positions run from <c>pad_token_id + 1</c> to the table's end.</summary>
    public static int MaxSequenceLength(BertConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.MaxPositionEmbeddings - config.PadTokenId - 1;
    }

    private static void SetDefault(JsonObject root, string key, double value)
    {
        if (root[key] is null) root[key] = JsonValue.Create(value);
    }

    private static void SetDefault(JsonObject root, string key, int value)
    {
        if (root[key] is null) root[key] = JsonValue.Create(value);
    }
}
