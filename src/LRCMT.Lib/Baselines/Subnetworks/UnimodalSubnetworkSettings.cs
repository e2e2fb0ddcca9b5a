using LRCMT.Errors;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// The modality embedding subnetworks TFN (Zadeh et al., 2017) puts before its fusion and LMF (Liu et al., 2018) reuses:
/// the text states run through an LSTM whose state at the last real token feeds two ReLU layers; the acoustic and the
/// visual frames are averaged over their real frames and run through three ReLU layers each. Defaults are the TFN
/// paper's sizes (LSTM and text layers 128, acoustic and visual layers 32).
/// </summary>
public sealed record UnimodalSubnetworkSettings
{
    /// <summary>Hidden size of the text LSTM.</summary>
    public int TextHidden { get; init; } = 128;

    /// <summary>Width of the two ReLU layers after the LSTM, i.e. of the text embedding z<sub>t</sub>.</summary>
    public int TextOut { get; init; } = 128;

    /// <summary>Width of the three ReLU layers of the acoustic subnetwork, i.e. of z<sub>a</sub>.</summary>
    public int AcousticHidden { get; init; } = 32;

    /// <summary>Width of the three ReLU layers of the visual subnetwork, i.e. of z<sub>v</sub>.</summary>
    public int VisualHidden { get; init; } = 32;

    /// <summary>Dropout on each subnetwork's input to its first layer (the LSTM's last state; the averaged frames).</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary>Every problem with these settings (paths relative to them); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.AtLeast(nameof(TextHidden), TextHidden, 1),
        SettingRules.AtLeast(nameof(TextOut), TextOut, 1),
        SettingRules.AtLeast(nameof(AcousticHidden), AcousticHidden, 1),
        SettingRules.AtLeast(nameof(VisualHidden), VisualHidden, 1),
        SettingRules.Rate(nameof(Dropout), Dropout));
}
