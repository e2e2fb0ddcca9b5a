namespace LRCMT.LowRank;

/// <summary>How TIES elects the sign of each entry (PEFT's <c>majority_sign_method</c>).</summary>
public enum MajoritySignMethod
{
    /// <summary>The sign of the sum of the (pruned) values (PEFT <c>"total"</c>, the default).</summary>
    Total,

    /// <summary>The sign most values have (PEFT <c>"frequency"</c>).</summary>
    Frequency,
}
