using LRCMT.Models;
using LRCMT.TextEncoders;

namespace LRCMT.Configuration;

/// <summary>Where the pretrained text encoder comes from (at most one source) and how it is tuned.</summary>
public sealed record TextEncoderOptions
{
    /// <summary>A Hugging Face BERT folder (config.json + model.safetensors), e.g. a downloaded bert-base-uncased.</summary>
    public string? PretrainedFolder { get; set; }

    /// <summary>An ONNX BERT export, e.g. all-MiniLM-L6-v2's model.onnx.</summary>
    public string? OnnxFile { get; set; }

    /// <summary>Which encoder parameters train: LoRA adapters (default), none, or all.</summary>
    public EncoderTuning Tuning { get; set; } = EncoderTuning.LoRA;

    /// <summary>
    /// Element type of the frozen base (bf16/fp16 halve its memory); adapters, fusion, head and optimizer state stay
    /// float32. Only with LoRA or frozen tuning.
    /// </summary>
    public BaseDType BaseDType { get; set; } = BaseDType.Float32;
}
