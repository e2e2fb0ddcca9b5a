using System.Globalization;

namespace LRCMT.Errors;

/// <summary>
/// The value rules shared by several settings types, each written once: every options type, module constructor and
/// validator that needs one calls it here, so the rule and its message cannot drift apart.
/// </summary>
internal static class SettingRules
{
    /// <summary>A probability such as a dropout rate must lie in [0, 1).</summary>
    public static string? Rate(string name, double value) =>
        value >= 0 && value < 1 ? null : Invariant($"{name} must be in [0, 1) (got {value}).");

    /// <summary>A temporal kernel must be a positive odd number, so a same-padded convolution keeps the sequence length.</summary>
    public static string? OddKernel(string name, long size) =>
        size >= 1 && size % 2 == 1 ? null : Invariant($"{name} must be a positive odd number so the sequence length is kept (got {size}).");

    /// <summary>A model width must split evenly over the attention heads.</summary>
    public static string? DivisibleByHeads(string widthName, long width, string headsName, long heads) =>
        heads < 1 || width < 1 || width % heads == 0 ? null : Invariant($"{widthName} ({width}) must be divisible by {headsName} ({heads}).");

    /// <summary>A count or size that must be at least <paramref name="minimum"/>.</summary>
    public static string? AtLeast(string name, long value, long minimum) =>
        value >= minimum ? null : Invariant($"{name} must be at least {minimum} (got {value}).");

    /// <summary>
    /// An enum setting must be one of its named members: a cast such as <c>(TrainingLoss)9</c>, or a number a
    /// configuration binder accepted, would otherwise run silently as whichever branch handles "anything else".
    /// </summary>
    public static string? Defined<TEnum>(string name, TEnum value) where TEnum : struct, Enum =>
        Enum.IsDefined(value) ? null : Invariant($"{name} must be one of {string.Join(", ", Enum.GetNames<TEnum>())} (got {value}).");

    /// <summary>Throws <see cref="InvalidConfigurationException"/> about <paramref name="what"/> when <see cref="Defined"/> finds a problem.</summary>
    public static void RequireDefined<TEnum>(string what, string name, TEnum value) where TEnum : struct, Enum
    {
        if (Defined(name, value) is { } problem) throw new InvalidConfigurationException(what, problem);
    }

    /// <summary>A learning rate, weight decay or epsilon must be a finite number of at least 0.</summary>
    public static string? NonNegativeFinite(string name, double value) =>
        double.IsFinite(value) && value >= 0 ? null : Invariant($"{name} must be finite and >= 0 (got {value}).");

    /// <summary>A scale such as LoRA's alpha must be a positive finite number.</summary>
    public static string? PositiveFinite(string name, double value) =>
        double.IsFinite(value) && value > 0 ? null : Invariant($"{name} must be a positive number (got {value}).");

    /// <summary>A low-rank adapter's rank must fit the projection it adapts: 1 ≤ rank ≤ min(in, out).</summary>
    public static string? RankFits(int rank, long inFeatures, long outFeatures)
    {
        long limit = Math.Min(inFeatures, outFeatures);
        return rank < 1 ? Invariant($"rank must be at least 1 (got {rank}).")
            : rank > limit ? Invariant($"rank {rank} exceeds min(in_features {inFeatures}, out_features {outFeatures}) = {limit}.")
            : null;
    }

    /// <summary>Adds every non-null problem to <paramref name="problems"/>.</summary>
    public static void AddTo(List<string> problems, params string?[] found)
    {
        foreach (var problem in found) if (problem is not null) problems.Add(problem);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
