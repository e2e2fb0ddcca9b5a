using LRCMT.Errors;
using LRCMT.Configuration;

namespace LRCMT.Baselines;

/// <summary>
/// Settings of <see cref="MagBertModel"/> (Rahman et al., 2020). The defaults are the published code's: the gate sits
/// right after the embeddings, β = 1, dropout 0.5 after the gate's LayerNorm, 0.1 before the output layer.
/// </summary>
public sealed record MagSettings
{
    /// <summary>
    /// How many Transformer layers of the encoder run before the gate: 0 puts it on the embeddings' output (the published
    /// model), k on the output of layer k, up to the encoder's layer count.
    /// </summary>
    public int InjectionLayer { get; init; }

    /// <summary>β: the non-verbal shift may reach at most β times the norm of the token state it shifts.</summary>
    public double BetaShift { get; init; } = 1.0;

    /// <summary>Dropout after the gate's LayerNorm (on every token state the encoder's later layers read).</summary>
    /// <remarks>The published 0.5 suits an encoder that fine-tunes around the gate; a frozen (LoRA) encoder cannot absorb
    /// it: lower it, e.g. 0.1 (measured in docs/baselines.md §5).</remarks>
    public double GateDropout { get; init; } = 0.5;

    /// <summary>Dropout on the pooled text state before the output layer.</summary>
    public double OutputDropout { get; init; } = 0.1;

    /// <summary>How the acoustic and visual frames are lined up with the tokens (see <see cref="NonverbalAlignment"/>).</summary>
    public NonverbalAlignment Alignment { get; init; } = NonverbalAlignment.ResampleToText;

    /// <summary>Every problem with these settings (paths relative to them); empty when they are usable.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.AtLeast(nameof(InjectionLayer), InjectionLayer, 0),
        SettingRules.Positive(nameof(BetaShift), BetaShift),
        SettingRules.Rate(nameof(GateDropout), GateDropout),
        SettingRules.Rate(nameof(OutputDropout), OutputDropout),
        SettingRules.Defined(nameof(Alignment), Alignment));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("MAG settings", FindProblems());
}
