using LRCMT.Configuration;
using LRCMT.Errors;
using N = LRCMT.Evaluation.MsaMetricNames;

namespace LRCMT.Evaluation;

/// <summary>
/// Sentiment classes derived from regression scores with MMSA's conventions, for training and scoring a
/// classification head: CMU-MOSI / MOSEI in 2 classes (negative &lt; 0 vs non-negative, MMSA's <c>Has0</c> split) or
/// 7 classes (the score clipped to [-3, 3] and rounded half to even, class = rounded + 3); CH-SIMS in 3 classes
/// (MMSA's bins [-1, -0.1], (-0.1, 0.1], (0.1, 1] after clipping to [-1, 1]).
/// </summary>
/// <param name="Dataset">Whose convention applies.</param>
/// <param name="Count">Number of classes: 2 or 7 for MOSI/MOSEI, 3 for SIMS.</param>
public sealed record SentimentClasses(MsaDataset Dataset, int Count)
{
    /// <summary>The class counts MMSA defines for <paramref name="dataset"/>.</summary>
    /// <exception cref="InvalidConfigurationException"><paramref name="dataset"/> is not a named <see cref="MsaDataset"/>.</exception>
    public static IReadOnlyList<int> SupportedCounts(MsaDataset dataset)
    {
        SettingRules.ThrowIf("sentiment classes", SettingRules.Defined(nameof(Dataset), dataset));
        return dataset == MsaDataset.Sims ? [3] : [2, 7];
    }

    /// <summary>
    /// The metric names <see cref="MsaMetrics.Compute(SentimentClasses, ReadOnlySpan{int}, ReadOnlySpan{int})"/> returns,
    /// MMSA's spelling: <c>Has0_acc_2</c>/<c>Has0_F1_score</c> (2 classes), <c>Mult_acc_7</c>/<c>F1_score_7</c>,
    /// <c>Mult_acc_3</c>/<c>F1_score_3</c>; every F1 is scikit-learn's weighted F1.
    /// </summary>
    public IReadOnlyList<string> MetricNames => Count switch
    {
        2 => [N.Has0Acc2, N.Has0F1],
        3 => [N.MultAcc3, N.F1Score3],
        _ => [N.MultAcc7, N.F1Score7],
    };

    /// <summary>The class of a regression score (0 = most negative).</summary>
    /// <exception cref="InvalidConfigurationException">This dataset has no <see cref="Count"/>-class convention.</exception>
    public long ClassOf(float score)
    {
        Validate();
        if (!float.IsFinite(score)) throw new InvalidInputException("sentiment score", $"{score} is not a finite number.");
        return (Dataset, Count) switch
        {
            (MsaDataset.Sims, _) => Math.Clamp(score, -1f, 1f) switch { <= -0.1f => 0, <= 0.1f => 1, _ => 2 },
            (_, 2) => score >= 0 ? 1 : 0,
            _ => (long)Math.Round((double)Math.Clamp(score, -3f, 3f), MidpointRounding.ToEven) + 3,
        };
    }

    /// <summary>Why these classes are not usable (empty when they are).</summary>
    public IReadOnlyList<SettingProblem> FindProblems() => SettingRules.Collect(SettingRules.Defined(nameof(Dataset), Dataset)
        ?? (SupportedCounts(Dataset).Contains(Count)
            ? null
            : new SettingProblem(nameof(Count), $"{Dataset} has MMSA class conventions for {string.Join(" or ", SupportedCounts(Dataset))} classes, got {Count}")));

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("sentiment classes", FindProblems());
}
