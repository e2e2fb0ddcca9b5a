using LRCMT.Errors;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// Shape and regularisation of <see cref="TfnFusion"/> (Zadeh et al., 2017): the modality subnetworks and the sentiment
/// inference subnetwork (two ReLU layers of 128 in the paper) that reads the fused tensor.
/// </summary>
public sealed record TfnSettings
{
    /// <summary>The text, acoustic and visual embedding subnetworks.</summary>
    public UnimodalSubnetworkSettings Subnetworks { get; init; } = new();

    /// <summary>Width of the two ReLU layers of the sentiment inference subnetwork.</summary>
    public int PostFusionHidden { get; init; } = 128;

    /// <summary>Dropout on the fused tensor before the inference subnetwork.</summary>
    public double PostFusionDropout { get; init; } = 0.2;

    /// <summary>Every problem with these settings (paths relative to them, e.g. <c>Subnetworks.Dropout</c>); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        if (Subnetworks is null) return [new SettingProblem(nameof(Subnetworks), "is required")];
        return [.. Subnetworks.FindProblems().Select(p => p.Within(nameof(Subnetworks))), .. SettingRules.Collect(
            SettingRules.AtLeast(nameof(PostFusionHidden), PostFusionHidden, 1),
            SettingRules.Rate(nameof(PostFusionDropout), PostFusionDropout))];
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("TFN settings", FindProblems());
}
