using LRCMT.Configuration;
using LRCMT.Errors;

namespace LRCMT.LowRank;

/// <summary>
/// Settings of <see cref="AdapterControl.AddWeightedAdapter"/> beyond the adapters and their weights, with PEFT's
/// defaults (<c>add_weighted_adapter</c>'s keyword arguments).
/// </summary>
public sealed record AdapterCombination
{
    /// <summary>The combination (PEFT <c>combination_type</c>); default <see cref="AdapterCombinationMethod.Svd"/>, PEFT's default. With one adapter PEFT always uses <see cref="AdapterCombinationMethod.Linear"/>, and so does this library.</summary>
    public AdapterCombinationMethod Method { get; init; } = AdapterCombinationMethod.Svd;

    /// <summary>Rank of the result for the SVD methods (PEFT <c>svd_rank</c>); null: the largest rank among the adapters.</summary>
    public int? SvdRank { get; init; }

    /// <summary>For the SVD methods: clamp both factors to ± this quantile of their entries (PEFT <c>svd_clamp</c>), in [0, 1]; null: no clamping.</summary>
    public double? SvdClamp { get; init; }

    /// <summary>Share of entries kept by the pruning methods (TIES, DARE, magnitude pruning; PEFT <c>density</c>), in [0, 1]; required by them, ignored by the others.</summary>
    public double? Density { get; init; }

    /// <summary>How TIES elects each entry's sign (PEFT <c>majority_sign_method</c>).</summary>
    public MajoritySignMethod MajoritySign { get; init; } = MajoritySignMethod.Total;

    /// <summary>
    /// Seed of the random drop of the DARE methods, so the result is repeatable; null: TorchSharp's global generator
    /// (<c>torch.manual_seed</c>), as PEFT uses PyTorch's.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Whether <see cref="Method"/> prunes (and needs <see cref="Density"/>).</summary>
    internal bool Prunes => Method is not (AdapterCombinationMethod.Svd or AdapterCombinationMethod.Linear or AdapterCombinationMethod.Cat);

    /// <summary>Whether <see cref="Method"/> combines updates and factors them with an SVD.</summary>
    internal bool UsesSvd => Method is AdapterCombinationMethod.Svd or AdapterCombinationMethod.TiesSvd or AdapterCombinationMethod.DareLinearSvd
        or AdapterCombinationMethod.DareTiesSvd or AdapterCombinationMethod.MagnitudePruneSvd;

    /// <summary>Every problem of these settings; empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        var problems = SettingRules.Collect(
            SettingRules.Defined(nameof(Method), Method),
            SettingRules.Defined(nameof(MajoritySign), MajoritySign),
            SvdRank is { } rank ? SettingRules.LoRARank(nameof(SvdRank), rank) : null,
            SvdClamp is { } clamp ? SettingRules.Share(nameof(SvdClamp), clamp) : null,
            Density is { } density ? SettingRules.Share(nameof(Density), density) : null);
        if (Prunes && Density is null)
            problems.Add(new(nameof(Density), $"is required by {Method} (the share of entries to keep, in [0, 1])"));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    /// <exception cref="InvalidConfigurationException">One or more settings are invalid.</exception>
    public void Validate() => SettingRules.ThrowIfAny("adapter combination", FindProblems());
}
