using LRCMT.Errors;

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

    /// <summary>Every problem with these settings, one sentence each; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems() => Problems("");

    /// <summary>The problems, each setting named with <paramref name="prefix"/>.</summary>
    internal IReadOnlyList<string> Problems(string prefix)
    {
        if (Subnetworks is null) return [$"{prefix}{nameof(Subnetworks)} is required."];
        var problems = new List<string>(Subnetworks.Problems(prefix + nameof(Subnetworks) + "."));
        SettingRules.AddTo(problems,
            SettingRules.AtLeast(prefix + nameof(PostFusionHidden), PostFusionHidden, 1),
            SettingRules.Rate(prefix + nameof(PostFusionDropout), PostFusionDropout));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing every problem, if any.</summary>
    public void EnsureValid()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new InvalidConfigurationException("TFN settings", problems);
    }
}
