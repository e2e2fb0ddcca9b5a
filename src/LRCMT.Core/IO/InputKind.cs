namespace LRCMT.IO;

/// <summary>
/// What an input file holds; each kind has its own size limit (<see cref="InputFile.Limit"/>), listed in
/// docs/reliability.md.
/// </summary>
internal enum InputKind
{
    /// <summary>Hugging Face <c>tokenizer.json</c>.</summary>
    TokenizerJson,

    /// <summary><c>vocab.txt</c> (WordPiece) or <c>vocab.json</c> (BPE).</summary>
    Vocabulary,

    /// <summary><c>merges.txt</c> (BPE).</summary>
    Merges,

    /// <summary><c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>.</summary>
    TokenizerConfig,

    /// <summary>A Hugging Face model <c>config.json</c>.</summary>
    ModelConfig,

    /// <summary>PEFT <c>adapter_config.json</c>.</summary>
    AdapterConfig,

    /// <summary>The library's saved-model manifest <c>lrcmt_config.json</c>.</summary>
    ModelManifest,

    /// <summary>CLI run settings and run records (config.json, ablation.json, and the CSV records test-predictions.csv and robustness.csv).</summary>
    RunSettings,

    /// <summary>An ONNX model (<c>.onnx</c>, protobuf).</summary>
    Onnx,

    /// <summary>
    /// The <c>data.pkl</c> entry of a torch zip checkpoint (<c>pytorch_model.bin</c>, <c>adapter_model.bin</c>): the
    /// pickle that lists the tensors, about 200 bytes each, not their data.
    /// </summary>
    TorchPickle,
}
