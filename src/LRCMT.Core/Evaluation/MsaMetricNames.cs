namespace LRCMT.Evaluation;

/// <summary>The metric names of MMSA's <c>metricsTop.py</c>, spelled exactly as MMSA reports them.</summary>
public static class MsaMetricNames
{
    /// <summary>Binary accuracy, negative (&lt; 0) vs non-negative (&gt;= 0). MOSI/MOSEI.</summary>
    public const string Has0Acc2 = "Has0_acc_2";

    /// <summary>Weighted F1 of the same split as <see cref="Has0Acc2"/>. MOSI/MOSEI.</summary>
    public const string Has0F1 = "Has0_F1_score";

    /// <summary>Binary accuracy, negative vs positive, samples with truth 0 left out. MOSI/MOSEI.</summary>
    public const string Non0Acc2 = "Non0_acc_2";

    /// <summary>Weighted F1 of the same split as <see cref="Non0Acc2"/>. MOSI/MOSEI.</summary>
    public const string Non0F1 = "Non0_F1_score";

    /// <summary>Two-class accuracy on CH-SIMS ([-1, 0] vs (0, 1]).</summary>
    public const string MultAcc2 = "Mult_acc_2";

    /// <summary>Three-class accuracy on CH-SIMS.</summary>
    public const string MultAcc3 = "Mult_acc_3";

    /// <summary>Five-class accuracy (MOSI/MOSEI: rounded scores clipped to [-2, 2]; CH-SIMS: fixed bins).</summary>
    public const string MultAcc5 = "Mult_acc_5";

    /// <summary>Seven-class accuracy: rounded scores clipped to [-3, 3]. MOSI/MOSEI.</summary>
    public const string MultAcc7 = "Mult_acc_7";

    /// <summary>Weighted F1 of the two CH-SIMS classes.</summary>
    public const string F1 = "F1_score";

    /// <summary>Weighted F1 of a three-class classification head (MMSA's classification name).</summary>
    public const string F1Score3 = "F1_score_3";

    /// <summary>Weighted F1 of a seven-class classification head (named like <see cref="F1Score3"/>).</summary>
    public const string F1Score7 = "F1_score_7";

    /// <summary>Mean absolute error (lower is better).</summary>
    public const string Mae = "MAE";

    /// <summary>Pearson correlation of predictions and truths.</summary>
    public const string Corr = "Corr";

    /// <summary>True for every metric where a larger value is better; false only for <see cref="Mae"/>.</summary>
    public static bool HigherIsBetter(string metric) => metric != Mae;
}
