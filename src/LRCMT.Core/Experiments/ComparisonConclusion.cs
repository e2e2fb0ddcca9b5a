namespace LRCMT.Experiments;

/// <summary>What a <see cref="PairedComparison"/> allows one to claim.</summary>
public enum ComparisonConclusion
{
    /// <summary>The interval over seeds includes 0, or there are too few seeds for one: "not shown at this budget".</summary>
    NotShown,

    /// <summary>The candidate is better: the interval over seeds excludes 0 on the candidate's side.</summary>
    CandidateBetter,

    /// <summary>The baseline is better: the interval over seeds excludes 0 on the baseline's side.</summary>
    BaselineBetter,
}
