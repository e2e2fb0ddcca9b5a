using LRCMT.Errors;
using LRCMT.Configuration;

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

    /// <summary>Every problem with these settings (paths relative to them, e.g. <c>Subnetworks.Dropout</c>); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        if (Subnetworks is null) return [new SettingProblem(nameof(Subnetworks), "is required")];
        return [.. Subnetworks.FindProblems().Select(p => p.Within(nameof(Subnetworks))), .. SettingRules.Collect(SettingRules.AtLeast(nameof(Rank), Rank, 1))];
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("LMF settings", FindProblems());
}
