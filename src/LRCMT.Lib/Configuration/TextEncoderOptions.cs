using LRCMT.Errors;
using LRCMT.Models;
using LRCMT.TextEncoders;

namespace LRCMT.Configuration;

/// <summary>
/// The text encoder of a model: where its pretrained weights come from (one source, or none when the encoder is
/// given in code), which of its parameters train, and the element type of its frozen base.
/// </summary>
public sealed record TextEncoderOptions
{
    /// <summary>
    /// A Hugging Face BERT folder (config.json + model.safetensors), e.g. a downloaded bert-base-uncased. With an encoder
    /// given in code (<see cref="LrcmtBuilder.WithTextEncoder"/>), where that encoder was loaded from, if anywhere.
    /// </summary>
    public string? PretrainedFolder { get; init; }

    /// <summary>An ONNX BERT export, e.g. all-MiniLM-L6-v2's model.onnx (or where an encoder given in code came from).</summary>
    public string? OnnxFile { get; init; }

    /// <summary>Which encoder parameters train: LoRA adapters (default), none, or all.</summary>
    public EncoderTuning Tuning { get; init; } = EncoderTuning.LoRA;

    /// <summary>
    /// Element type of the frozen base (bf16/fp16 halve its memory); adapters, fusion, head and optimizer state stay
    /// float32. Only with LoRA or frozen tuning. A saved model is loaded back onto a base of this type.
    /// </summary>
    public BaseDType BaseDType { get; init; } = BaseDType.Float32;

    /// <summary>Every problem of these settings (paths relative to them, e.g. <c>Tuning</c>); empty when they are valid.</summary>
    /// <remarks>Whether a source is given, and whether its files exist, is checked where the encoder is loaded (<see cref="LrcmtBuilder.Build"/>).</remarks>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.Defined(nameof(Tuning), Tuning),
        SettingRules.Defined(nameof(BaseDType), BaseDType),
        HasFolder && HasOnnx ? new SettingProblem(nameof(OnnxFile), "set PretrainedFolder or OnnxFile, not both") : null,
        BaseDType != BaseDType.Float32 && Tuning == EncoderTuning.Full
            ? new SettingProblem(nameof(BaseDType), $"{BaseDType} needs a frozen base, but Tuning is Full (updates would round away in a half or int8 base); use LoRA, Frozen or Float32")
            : null);

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("text encoder options", FindProblems());

    /// <summary>
    /// The problems of the encoder's source when it is about to be loaded. An encoder given in code needs none: a
    /// source set next to it records where it came from (a saved model loads it from there, and checks its hash).
    /// </summary>
    internal IEnumerable<SettingProblem> SourceProblems(bool encoderGivenInCode)
    {
        if (encoderGivenInCode) yield break;
        if (!HasFolder && !HasOnnx) yield return new("", "no text encoder: set PretrainedFolder (a Hugging Face BERT folder) or OnnxFile");
        if (HasFolder && !File.Exists(Path.Combine(PretrainedFolder!, "config.json")))
            yield return new(nameof(PretrainedFolder), $"'{PretrainedFolder}' has no config.json");
        if (HasOnnx && !File.Exists(OnnxFile))
            yield return new(nameof(OnnxFile), $"'{OnnxFile}' does not exist");
    }

    private bool HasFolder => !string.IsNullOrWhiteSpace(PretrainedFolder);

    private bool HasOnnx => !string.IsNullOrWhiteSpace(OnnxFile);
}
