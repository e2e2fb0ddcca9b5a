using System.Globalization;
using LRCMT.Errors;

namespace LRCMT.Configuration;

/// <summary>
/// Every value rule of LRCMT's settings, each written once, with its bounds: the options types' <c>FindProblems()</c>,
/// module constructors, and tools built on the library (the <c>lrcmt</c> CLI's flags and settings files) all call
/// these, so the same bad value gets the same message wherever it is caught. A rule returns null when the value is
/// fine, otherwise a <see cref="SettingProblem"/> at the path it was given.
/// </summary>
/// <remarks>
/// The upper bounds say what is sane on one machine (a typo such as a LoRA rank of 100,000 is refused before any tensor
/// is allocated); the lower bounds what is usable at all.
/// </remarks>
public static class SettingRules
{
    /// <summary>Largest LoRA rank, also of a rank-pattern entry (BERT-large's width is 1,024; a rank past a layer's width adds nothing).</summary>
    public const int MaxLoRARank = 4_096;

    /// <summary>Widest cross-modal model (BERT's hidden size is bounded by 2¹⁶ the same way).</summary>
    public const int MaxFusionWidth = 65_536;

    /// <summary>Most attention heads, cross-modal layers or feed-forward multiple of the fusion (BERT configs stop at 1,024 layers and heads).</summary>
    public const int MaxFusionCount = 1_024;

    /// <summary>Widest temporal kernel of a modality projection.</summary>
    public const int MaxKernelSize = 1_023;

    /// <summary>Largest batch (a whole CMU-MOSEI split is 16,326 samples).</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>Most training epochs.</summary>
    public const int MaxEpochs = 100_000;

    /// <summary>Fewest tokens a text may be cut to: a BERT input needs room for [CLS] and [SEP].</summary>
    public const int MinTextTokens = 2;

    /// <summary>Most tokens a text may keep: BERT-family encoders have 512 positions.</summary>
    public const int MaxTextTokens = 512;

    /// <summary>Most samples of one generated split (the controlled benchmark).</summary>
    public const int MaxGeneratedSamples = 1_000_000;

    /// <summary>A count or size that must be at least <paramref name="minimum"/>.</summary>
    public static SettingProblem? AtLeast(string path, long value, long minimum) =>
        value >= minimum ? null : Problem(path, $"must be at least {minimum}, got {value}");

    /// <summary>A count or size within [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static SettingProblem? InRange(string path, long value, long minimum, long maximum) =>
        value >= minimum && value <= maximum ? null : Problem(path, $"must be from {minimum} to {maximum}, got {value}");

    /// <summary>A probability such as a dropout rate: in [0, 1).</summary>
    public static SettingProblem? Rate(string path, double value) =>
        value >= 0 && value < 1 ? null : Problem(path, $"must be in [0, 1), got {value}");

    /// <summary>A share of samples: in [0, 1].</summary>
    public static SettingProblem? Share(string path, double value) =>
        value >= 0 && value <= 1 ? null : Problem(path, $"must be in [0, 1], got {value}");

    /// <summary>A confidence level: strictly between 0 and 1.</summary>
    public static SettingProblem? ConfidenceLevel(string path, double value) =>
        value > 0 && value < 1 ? null : Problem(path, $"must lie strictly between 0 and 1, got {value}");

    /// <summary>Any number setting: finite (configuration binders accept "NaN" and "Infinity").</summary>
    public static SettingProblem? Finite(string path, double value) =>
        double.IsFinite(value) ? null : Problem(path, $"must be a finite number, got {value}");

    /// <summary>A rate, decay or norm that may be 0: finite and at least 0.</summary>
    public static SettingProblem? NonNegative(string path, double value) =>
        double.IsFinite(value) && value >= 0 ? null : Problem(path, $"must be a finite number ≥ 0, got {value}");

    /// <summary>A scale such as LoRA's alpha: finite and above 0.</summary>
    public static SettingProblem? Positive(string path, double value) =>
        double.IsFinite(value) && value > 0 ? null : Problem(path, $"must be a finite number > 0, got {value}");

    /// <summary>A temporal kernel: odd, so a same-padded convolution keeps the sequence length, and at most <see cref="MaxKernelSize"/>.</summary>
    public static SettingProblem? OddKernel(string path, long size) =>
        size >= 1 && size <= MaxKernelSize && size % 2 == 1 ? null
            : Problem(path, $"must be an odd number from 1 to {MaxKernelSize} (so the sequence length is kept), got {size}");

    /// <summary>Attention heads must split the model width evenly (checked only when both are positive).</summary>
    public static SettingProblem? HeadsDivideWidth(string headsPath, long heads, string widthPath, long width) =>
        heads < 1 || width < 1 || width % heads == 0 ? null : Problem(headsPath, $"must divide {widthPath} ({width}), got {heads}");

    /// <summary>
    /// An enum setting must be one of its named members: a cast such as <c>(HeadKind)9</c>, or a number a
    /// configuration binder accepted, would otherwise run silently as whichever branch handles "anything else".
    /// </summary>
    public static SettingProblem? Defined<TEnum>(string path, TEnum value) where TEnum : struct, Enum =>
        Enum.IsDefined(value) ? null : Problem(path, $"must be one of {string.Join(", ", Enum.GetNames<TEnum>())}, got {value}");

    /// <summary>
    /// An enum setting written as text (a settings file, a command-line flag) must name one of the members of
    /// <paramref name="enumType"/>, in any case; numbers are refused, since they name no member a reader could check.
    /// The message lists the valid names, as <see cref="Defined{TEnum}"/>'s does.
    /// </summary>
    public static SettingProblem? Named(string path, string? text, Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        var names = Enum.GetNames(enumType);
        return text is not null && names.Contains(text.Trim(), StringComparer.OrdinalIgnoreCase) ? null
            : Problem(path, $"must be one of {string.Join(", ", names)}, got '{text}'");
    }

    /// <summary>A word setting that must be one of <paramref name="words"/> (case-sensitive).</summary>
    public static SettingProblem? OneOf(string path, string? value, params string[] words) =>
        value is not null && words.Contains(value, StringComparer.Ordinal) ? null
            : Problem(path, $"must be {string.Join(" or ", words.Select(w => $"'{w}'"))}, got '{value}'");

    /// <summary>A name used as one segment of a module path (an adapter name): non-empty, without '.'.</summary>
    public static SettingProblem? PathSegment(string path, string? name) =>
        !string.IsNullOrWhiteSpace(name) && !name.Contains('.') ? null : Problem(path, $"must be non-empty and contain no '.', got '{name}'");

    /// <summary>A LoRA rank: from 1 to <see cref="MaxLoRARank"/>.</summary>
    public static SettingProblem? LoRARank(string path, long rank) => InRange(path, rank, 1, MaxLoRARank);

    /// <summary>A low-rank adapter's rank must also fit the projection it adapts: at most min(in, out).</summary>
    public static SettingProblem? RankFits(string path, long rank, long inFeatures, long outFeatures)
    {
        long limit = Math.Min(inFeatures, outFeatures);
        return LoRARank(path, rank)
            ?? (rank > limit ? Problem(path, $"must be at most min(in_features {inFeatures}, out_features {outFeatures}) = {limit}, got {rank}") : null);
    }

    /// <summary>The cross-modal width: from 1 to <see cref="MaxFusionWidth"/>.</summary>
    public static SettingProblem? FusionWidth(string path, long width) => InRange(path, width, 1, MaxFusionWidth);

    /// <summary>A count of the fusion (heads, layers, feed-forward multiple): from 1 to <see cref="MaxFusionCount"/>.</summary>
    public static SettingProblem? FusionCount(string path, long count) => InRange(path, count, 1, MaxFusionCount);

    /// <summary>Training epochs: from 1 to <see cref="MaxEpochs"/>.</summary>
    public static SettingProblem? Epochs(string path, long epochs) => InRange(path, epochs, 1, MaxEpochs);

    /// <summary>Samples per batch: from 1 to <see cref="MaxBatchSize"/>.</summary>
    public static SettingProblem? BatchSize(string path, long size) => InRange(path, size, 1, MaxBatchSize);

    /// <summary>The token cap of a text, special tokens included: from <see cref="MinTextTokens"/> to <see cref="MaxTextTokens"/>.</summary>
    public static SettingProblem? TextTokens(string path, long tokens) => InRange(path, tokens, MinTextTokens, MaxTextTokens);

    /// <summary>Samples of a generated split: from <paramref name="minimum"/> to <see cref="MaxGeneratedSamples"/>.</summary>
    public static SettingProblem? GeneratedSamples(string path, long count, long minimum) => InRange(path, count, minimum, MaxGeneratedSamples);

    /// <summary>The problems found, without the nulls of the rules that passed.</summary>
    public static List<SettingProblem> Collect(params IEnumerable<SettingProblem?> found) => [.. found.OfType<SettingProblem>()];

    /// <summary>Throws <see cref="InvalidConfigurationException"/> about <paramref name="what"/> listing <paramref name="problems"/>, if there are any.</summary>
    public static void ThrowIfAny(string what, IReadOnlyList<SettingProblem> problems)
    {
        if (problems.Count > 0) throw new InvalidConfigurationException(what, problems);
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> about <paramref name="what"/> when <paramref name="problem"/> is not null.</summary>
    public static void ThrowIf(string what, SettingProblem? problem)
    {
        if (problem is not null) throw new InvalidConfigurationException(what, problem);
    }

    private static SettingProblem Problem(string path, FormattableString message) => new(path, message.ToString(CultureInfo.InvariantCulture));
}
