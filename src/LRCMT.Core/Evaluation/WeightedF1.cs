namespace LRCMT.Evaluation;

/// <summary>
/// scikit-learn's <c>f1_score(y_true, y_pred, average="weighted")</c> for integer class labels: per-class F1 over the
/// classes present in either array, averaged with the true support as weights; a class with no true or predicted
/// member has F1 0 (sklearn's <c>zero_division</c> default).
/// </summary>
internal static class WeightedF1
{
    public static double Compute(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        var labels = new SortedSet<int>();
        foreach (var t in truth) labels.Add(t);
        foreach (var p in predicted) labels.Add(p);

        double weighted = 0, totalSupport = 0;
        foreach (var label in labels)
        {
            long tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < truth.Length; i++)
            {
                bool isTrue = truth[i] == label, isPred = predicted[i] == label;
                if (isTrue && isPred) tp++;
                else if (isPred) fp++;
                else if (isTrue) fn++;
            }
            long support = tp + fn;
            long denominator = 2 * tp + fp + fn;
            double f1 = denominator == 0 ? 0 : 2.0 * tp / denominator;
            weighted += f1 * support;
            totalSupport += support;
        }
        return totalSupport == 0 ? 0 : weighted / totalSupport;
    }

    /// <summary>Fraction of positions where the labels agree (<c>accuracy_score</c>).</summary>
    public static double Accuracy(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        int hits = 0;
        for (int i = 0; i < truth.Length; i++) if (truth[i] == predicted[i]) hits++;
        return (double)hits / truth.Length;
    }
}
