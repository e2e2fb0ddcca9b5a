using LRCMT.Configuration;
using N = LRCMT.Evaluation.MsaMetricNames;

namespace LRCMT.Evaluation;

/// <summary>
/// Regression metrics computed exactly as MMSA's <c>metricsTop.py</c> does (so our numbers compare with published
/// MMSA tables), but unrounded: MMSA rounds MOSI/MOSEI values to 4 decimals, format with <see cref="MetricResults.ToString"/>
/// for that. Inputs are float32 like the model's outputs; clipping, rounding (half to even) and the CH-SIMS bins are
/// evaluated in float32 as numpy does.
/// </summary>
/// <remarks>
/// Degenerate inputs never give NaN: <c>Corr</c> with constant predictions or truths, and <c>Non0_*</c> when every truth
/// is 0, are reported as 0 and listed in <see cref="MetricResults.Undefined"/>. Empty or mismatched inputs and
/// non-finite values throw <see cref="ArgumentException"/>.
/// </remarks>
public static class MsaMetrics
{
    private static readonly float[] SimsBins2 = [-1.01f, 0.0f, 1.01f];
    private static readonly float[] SimsBins3 = [-1.01f, -0.1f, 0.1f, 1.01f];
    private static readonly float[] SimsBins5 = [-1.01f, -0.7f, -0.1f, 0.1f, 0.7f, 1.01f];

    /// <summary>The metric names <see cref="Compute(MsaDataset, ReadOnlySpan{float}, ReadOnlySpan{float})"/> returns for a dataset, in order.</summary>
    /// <exception cref="Errors.InvalidConfigurationException"><paramref name="dataset"/> is not a named <see cref="MsaDataset"/>.</exception>
    public static IReadOnlyList<string> NamesFor(MsaDataset dataset)
    {
        RequireKnown(dataset);
        return dataset == MsaDataset.Sims
            ? [N.MultAcc2, N.MultAcc3, N.MultAcc5, N.F1, N.Mae, N.Corr]
            : [N.Has0Acc2, N.Has0F1, N.Non0Acc2, N.Non0F1, N.MultAcc5, N.MultAcc7, N.Mae, N.Corr];
    }

    // An undefined dataset, e.g. (MsaDataset)7, would otherwise be scored silently with MOSI's metrics.
    private static void RequireKnown(MsaDataset dataset) => SettingRules.ThrowIf("MSA metrics", SettingRules.Defined(nameof(dataset), dataset));

    /// <summary>Computes the metrics from predictions and truths.</summary>
    /// <exception cref="ArgumentException">Empty inputs, different lengths, or a NaN/infinite value.</exception>
    /// <exception cref="Errors.InvalidConfigurationException"><paramref name="dataset"/> is not a named <see cref="MsaDataset"/>.</exception>
    public static MetricResults Compute(MsaDataset dataset, ReadOnlySpan<float> predictions, ReadOnlySpan<float> truths)
    {
        RequireKnown(dataset);
        if (predictions.Length != truths.Length)
            throw new ArgumentException($"MsaMetrics needs one prediction per truth, got {predictions.Length} predictions and {truths.Length} truths.", nameof(predictions));
        if (predictions.Length == 0)
            throw new ArgumentException("MsaMetrics needs at least one sample; the evaluation set is empty.", nameof(predictions));
        RequireFinite(predictions, nameof(predictions));
        RequireFinite(truths, nameof(truths));

        var values = new Dictionary<string, double>();
        var undefined = new Dictionary<string, string>();
        if (dataset == MsaDataset.Sims) ComputeSims(predictions, truths, values, undefined);
        else ComputeMosi(predictions, truths, values, undefined);
        return new MetricResults(values, undefined);
    }

    /// <summary>
    /// Classification metrics for class indices (argmax of the logits against the true classes), named as
    /// <see cref="SentimentClasses.MetricNames"/>: the accuracy and scikit-learn's weighted F1.
    /// </summary>
    /// <exception cref="ArgumentException">Empty inputs, different lengths, or a class outside [0, Count).</exception>
    public static MetricResults Compute(SentimentClasses classes, ReadOnlySpan<int> predicted, ReadOnlySpan<int> truths)
    {
        ArgumentNullException.ThrowIfNull(classes);
        classes.Validate();
        if (predicted.Length != truths.Length)
            throw new ArgumentException($"MsaMetrics needs one prediction per truth, got {predicted.Length} predictions and {truths.Length} truths.", nameof(predicted));
        if (predicted.Length == 0)
            throw new ArgumentException("MsaMetrics needs at least one sample; the evaluation set is empty.", nameof(predicted));
        RequireClasses(predicted, classes.Count, nameof(predicted));
        RequireClasses(truths, classes.Count, nameof(truths));

        var names = classes.MetricNames;
        var values = new Dictionary<string, double>
        {
            [names[0]] = WeightedF1.Accuracy(truths, predicted),
            [names[1]] = WeightedF1.Compute(truths, predicted),
        };
        return new MetricResults(values, new Dictionary<string, string>());
    }

    private static void RequireClasses(ReadOnlySpan<int> values, int count, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (values[i] < 0 || values[i] >= count)
                throw new ArgumentException($"MsaMetrics: {name}[{i}] is class {values[i]}; classes are 0 to {count - 1}.", name);
    }

    private static void ComputeMosi(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Dictionary<string, double> values, Dictionary<string, string> undefined)
    {
        int n = pred.Length;
        var predSign = new int[n];
        var truthSign = new int[n];
        for (int i = 0; i < n; i++) { predSign[i] = pred[i] >= 0 ? 1 : 0; truthSign[i] = truth[i] >= 0 ? 1 : 0; }

        // Non-zero truths only (note -0.0 == 0, as in numpy).
        var nonZeroPred = new List<int>();
        var nonZeroTruth = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (truth[i] == 0) continue;
            nonZeroPred.Add(pred[i] > 0 ? 1 : 0);
            nonZeroTruth.Add(truth[i] > 0 ? 1 : 0);
        }

        values[N.Has0Acc2] = WeightedF1.Accuracy(truthSign, predSign);
        values[N.Has0F1] = WeightedF1.Compute(truthSign, predSign);
        if (nonZeroTruth.Count == 0)
        {
            const string why = "every truth is 0, so no sample is left once zeros are excluded";
            values[N.Non0Acc2] = 0; undefined[N.Non0Acc2] = why;
            values[N.Non0F1] = 0; undefined[N.Non0F1] = why;
        }
        else
        {
            values[N.Non0Acc2] = WeightedF1.Accuracy(nonZeroTruth.ToArray(), nonZeroPred.ToArray());
            values[N.Non0F1] = WeightedF1.Compute(nonZeroTruth.ToArray(), nonZeroPred.ToArray());
        }
        values[N.MultAcc5] = RoundedClassAccuracy(pred, truth, 2f);
        values[N.MultAcc7] = RoundedClassAccuracy(pred, truth, 3f);
        AddMaeAndCorr(pred, truth, values, undefined);
    }

    private static void ComputeSims(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Dictionary<string, double> values, Dictionary<string, string> undefined)
    {
        var p = Clip(pred, 1f);
        var t = Clip(truth, 1f);
        int[] p2 = Bin(p, SimsBins2), t2 = Bin(t, SimsBins2);
        values[N.MultAcc2] = WeightedF1.Accuracy(t2, p2);
        values[N.MultAcc3] = WeightedF1.Accuracy(Bin(t, SimsBins3), Bin(p, SimsBins3));
        values[N.MultAcc5] = WeightedF1.Accuracy(Bin(t, SimsBins5), Bin(p, SimsBins5));
        values[N.F1] = WeightedF1.Compute(t2, p2);
        AddMaeAndCorr(p, t, values, undefined);
    }

    private static void AddMaeAndCorr(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, Dictionary<string, double> values, Dictionary<string, string> undefined)
    {
        var absError = new float[pred.Length];
        for (int i = 0; i < pred.Length; i++) absError[i] = Math.Abs(pred[i] - truth[i]);
        values[N.Mae] = NumpyArithmetic.MeanFloat32(absError);

        if (NumpyArithmetic.Pearson(pred, truth) is { } corr) values[N.Corr] = corr;
        else
        {
            values[N.Corr] = 0;
            undefined[N.Corr] = "predictions or truths are constant (zero variance), so the correlation is undefined";
        }
    }

    /// <summary>MMSA's <c>__multiclass_acc</c>: both sides clipped to [-limit, limit], rounded half to even, compared.</summary>
    private static double RoundedClassAccuracy(ReadOnlySpan<float> pred, ReadOnlySpan<float> truth, float limit)
    {
        int hits = 0;
        for (int i = 0; i < pred.Length; i++)
        {
            double p = NumpyArithmetic.RoundHalfEven(Math.Clamp(pred[i], -limit, limit));
            double t = NumpyArithmetic.RoundHalfEven(Math.Clamp(truth[i], -limit, limit));
            if (p == t) hits++;
        }
        return (double)hits / pred.Length;
    }

    private static float[] Clip(ReadOnlySpan<float> values, float limit)
    {
        var clipped = new float[values.Length];
        for (int i = 0; i < values.Length; i++) clipped[i] = Math.Clamp(values[i], -limit, limit);
        return clipped;
    }

    /// <summary>Class i for a value in (edges[i], edges[i+1]], compared in float32 as numpy compares a float32 array with a Python float.</summary>
    private static int[] Bin(ReadOnlySpan<float> values, float[] edges)
    {
        var classes = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int c = 0;
            while (c < edges.Length - 2 && values[i] > edges[c + 1]) c++;
            classes[i] = c;
        }
        return classes;
    }

    private static void RequireFinite(ReadOnlySpan<float> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"MsaMetrics: {name}[{i}] is {values[i]}; metrics need finite values.", name);
    }
}
