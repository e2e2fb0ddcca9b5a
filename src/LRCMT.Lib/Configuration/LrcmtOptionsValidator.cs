using LRCMT.Errors;
using LRCMT.Models;
using LRCMT.TextEncoders;
using Microsoft.Extensions.Options;

namespace LRCMT.Configuration;

/// <summary>
/// Validates <see cref="LrcmtOptions"/> by asking each rule's owner: the architecture (sizes, kernels, head,
/// interaction switches, and through it the fusion settings), the LoRA configuration, and the encoder source
/// (exactly one, and it exists). Enum values are checked by the shared <c>SettingRules.Defined</c> rule (through the
/// architecture for the interaction and the head) like every other value, so there are no data annotations.
/// </summary>
internal sealed class LrcmtOptionsValidator : IValidateOptions<LrcmtOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LrcmtOptions options)
    {
        var problems = AllProblems(options, encoderGivenInCode: false);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Select(p => p.ToString()));
    }

    /// <summary>Every problem of <paramref name="options"/>, asking the rules of each part.</summary>
    internal static List<SettingProblem> AllProblems(LrcmtOptions options, bool encoderGivenInCode)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<SettingProblem>();
        if (options.Fusion is null || options.Modalities is null || options.Interaction is null || options.Head is null || options.TextEncoder is null)
        {
            problems.Add(new("", "TextEncoder, Modalities, Fusion, Interaction and Head must all be set."));
            return problems;
        }
        problems.AddRange(options.ToArchitecture().Problems());
        problems.AddRange(EncoderSourceProblems(options.TextEncoder, encoderGivenInCode));
        problems.AddRange(SettingRules.Collect(
            SettingRules.Defined("TextEncoder.Tuning", options.TextEncoder.Tuning),
            SettingRules.Defined("TextEncoder.BaseDType", options.TextEncoder.BaseDType)));

        if (options.TextEncoder.BaseDType != BaseDType.Float32 && options.TextEncoder.Tuning == EncoderTuning.Full)
            problems.Add(new("TextEncoder.BaseDType", $"{options.TextEncoder.BaseDType} needs a frozen base, but TextEncoder.Tuning is Full (updates would round away in a half type); use LoRA or Float32"));
        if (options.TextEncoder.Tuning == EncoderTuning.LoRA)
        {
            if (options.LoRA is null) problems.Add(new("LoRA", "must be set when TextEncoder.Tuning is LoRA"));
            else problems.AddRange(options.LoRA.FindProblems().Select(p => p.Within("LoRA")));
        }
        return problems;
    }

    private static IEnumerable<SettingProblem> EncoderSourceProblems(TextEncoderOptions encoder, bool encoderGivenInCode)
    {
        bool hasFolder = !string.IsNullOrWhiteSpace(encoder.PretrainedFolder);
        bool hasOnnx = !string.IsNullOrWhiteSpace(encoder.OnnxFile);
        if (encoderGivenInCode)
        {
            if (hasFolder || hasOnnx) yield return new("TextEncoder", "a text encoder was given in code and also PretrainedFolder or OnnxFile; choose one source");
            yield break;
        }
        if (hasFolder && hasOnnx) yield return new("TextEncoder", "set PretrainedFolder or OnnxFile, not both");
        else if (!hasFolder && !hasOnnx) yield return new("TextEncoder", "no text encoder: set PretrainedFolder (a Hugging Face BERT folder) or OnnxFile");
        if (hasFolder && !File.Exists(Path.Combine(encoder.PretrainedFolder!, "config.json")))
            yield return new("TextEncoder.PretrainedFolder", $"'{encoder.PretrainedFolder}' has no config.json");
        if (hasOnnx && !File.Exists(encoder.OnnxFile))
            yield return new("TextEncoder.OnnxFile", $"'{encoder.OnnxFile}' does not exist");
    }
}
