using LRCMT.Errors;
using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>
/// The prediction head. Its class count is the one place a model's classes are kept: the trainer reads them from
/// the model it trains.
/// </summary>
public sealed record HeadOptions
{
    /// <summary>Regression (one score, default) or classification (one logit per class).</summary>
    public HeadKind Kind { get; init; } = HeadKind.Regression;

    /// <summary>Number of classes of a classification head (MMSA's conventions: 2 or 7 for MOSI/MOSEI, 3 for SIMS); unused for regression.</summary>
    public int Classes { get; init; } = 2;

    /// <summary>Dropout inside the head.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Number of values the head emits per sample.</summary>
    internal int Outputs => Kind == HeadKind.Regression ? 1 : Classes;

    /// <summary>Every problem of these settings (paths relative to them); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(
        SettingRules.Defined(nameof(Kind), Kind),
        Kind == HeadKind.Classification ? SettingRules.AtLeast(nameof(Classes), Classes, 2) : null,
        SettingRules.Rate(nameof(Dropout), Dropout));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("head options", FindProblems());
}
