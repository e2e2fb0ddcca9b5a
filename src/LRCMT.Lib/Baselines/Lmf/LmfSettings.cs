using LRCMT.Errors;

namespace LRCMT.Baselines;

/// <summary>
/// Shape and regularisation of <see cref="LmfFusion"/> (Liu et al., 2018): TFN's modality subnetworks and the rank of
/// the modality-specific factors that replace TFN's full weight tensor.
/// </summary>
public sealed record LmfSettings
{
    /// <summary>The text, acoustic and visual embedding subnetworks (TFN's).</summary>
    public UnimodalSubnetworkSettings Subnetworks { get; init; } = new();

    /// <summary>Rank r of the decomposition: r factors per modality (the published code's default is 4).</summary>
    public int Rank { get; init; } = 4;

    /// <summary>Every problem with these settings, one sentence each; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems() => Problems("");

    /// <summary>The problems, each setting named with <paramref name="prefix"/>.</summary>
    internal IReadOnlyList<string> Problems(string prefix)
    {
        if (Subnetworks is null) return [$"{prefix}{nameof(Subnetworks)} is required."];
        var problems = new List<string>(Subnetworks.Problems(prefix + nameof(Subnetworks) + "."));
        SettingRules.AddTo(problems, SettingRules.AtLeast(prefix + nameof(Rank), Rank, 1));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing every problem, if any.</summary>
    public void EnsureValid()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new InvalidConfigurationException("LMF settings", problems);
    }
}
