using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;
using Microsoft.Extensions.Options;

namespace LRCMT.Configuration;

/// <summary>
/// The checks of <see cref="LrcmtOptions"/> that involve more than one setting or the file system (the data
/// annotations cover single values): width divisible by heads, odd kernels, one encoder source that exists,
/// a valid LoRA configuration when adapters are used, compatible interaction switches.
/// </summary>
public sealed class LrcmtOptionsValidator : IValidateOptions<LrcmtOptions>
{
    /// <summary>LRCMT's LoRA targets when none are configured: BERT's query and value projections.</summary>
    public static IReadOnlyList<string> DefaultLoRATargets { get; } = ["query", "value"];

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LrcmtOptions options)
    {
        var problems = CrossFieldProblems(options, encoderGivenInCode: false);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>Every problem of <paramref name="options"/>: data annotations first, then the cross-field rules.</summary>
    internal static List<string> AllProblems(LrcmtOptions options, bool encoderGivenInCode)
    {
        var annotations = new LrcmtOptionsAnnotationsValidator().Validate(null, options);
        var problems = annotations.Failed ? annotations.Failures.ToList() : [];
        problems.AddRange(CrossFieldProblems(options, encoderGivenInCode));
        return problems;
    }

    /// <summary>The LoRA configuration to inject: the configured one, with LRCMT's default targets if it names none.</summary>
    internal static LoRAConfig EffectiveLoRA(LoRAConfig configured) =>
        configured.TargetModules is { Count: > 0 } || !string.IsNullOrWhiteSpace(configured.TargetRegex)
            ? configured
            : configured with { TargetModules = [.. DefaultLoRATargets] };

    private static List<string> CrossFieldProblems(LrcmtOptions options, bool encoderGivenInCode)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var fusion = options.Fusion;
        if (fusion.Heads > 0 && fusion.Width % fusion.Heads != 0)
            problems.Add($"Fusion.Width ({fusion.Width}) must be divisible by Fusion.Heads ({fusion.Heads}).");

        var modalities = options.Modalities;
        foreach (var (name, size) in new[] { ("Text", modalities.TextKernelSize), ("Acoustic", modalities.AcousticKernelSize), ("Visual", modalities.VisualKernelSize) })
        {
            if (size % 2 == 0) problems.Add($"Modalities.{name}KernelSize must be odd so sequence lengths are kept (got {size}).");
        }

        if (options.Interaction is { Mode: InteractionMode.TextOnly, TextAttendedByMemory: true })
            problems.Add("Interaction.TextAttendedByMemory needs acoustic and visual inputs, but Interaction.Mode is TextOnly.");

        problems.AddRange(EncoderSourceProblems(options.TextEncoder, encoderGivenInCode));

        if (options.TextEncoder.BaseDType != BaseDType.Float32 && options.TextEncoder.Tuning == EncoderTuning.Full)
            problems.Add($"TextEncoder.BaseDType {options.TextEncoder.BaseDType} needs a frozen base, but TextEncoder.Tuning is Full (updates would round away in a half type); use LoRA or Float32.");
        if (options.TextEncoder.Tuning == EncoderTuning.LoRA)
        {
            if (options.LoRA is null) problems.Add("LoRA must be set when TextEncoder.Tuning is LoRA.");
            else
            {
                try { EffectiveLoRA(options.LoRA).Validate(); }
                catch (InvalidConfigurationException e) { problems.AddRange(e.Problems.Select(p => "LoRA: " + p)); }
            }
        }
        return problems;
    }

    private static IEnumerable<string> EncoderSourceProblems(TextEncoderOptions encoder, bool encoderGivenInCode)
    {
        bool hasFolder = !string.IsNullOrWhiteSpace(encoder.PretrainedFolder);
        bool hasOnnx = !string.IsNullOrWhiteSpace(encoder.OnnxFile);
        if (encoderGivenInCode)
        {
            if (hasFolder || hasOnnx) yield return "A text encoder was given in code and also TextEncoder.PretrainedFolder or TextEncoder.OnnxFile; choose one source.";
            yield break;
        }
        if (hasFolder && hasOnnx) yield return "Set TextEncoder.PretrainedFolder or TextEncoder.OnnxFile, not both.";
        else if (!hasFolder && !hasOnnx) yield return "No text encoder: set TextEncoder.PretrainedFolder (a Hugging Face BERT folder) or TextEncoder.OnnxFile.";
        if (hasFolder && !File.Exists(Path.Combine(encoder.PretrainedFolder!, "config.json")))
            yield return $"TextEncoder.PretrainedFolder '{encoder.PretrainedFolder}' has no config.json.";
        if (hasOnnx && !File.Exists(encoder.OnnxFile))
            yield return $"TextEncoder.OnnxFile '{encoder.OnnxFile}' does not exist.";
    }
}
