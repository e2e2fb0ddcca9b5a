using LRCMT.Configuration;
using System.Globalization;

namespace LRCMT.Experiments;

/// <summary>A two-sided confidence interval [<see cref="Lower"/>, <see cref="Upper"/>] at <see cref="Level"/> (e.g. 0.95).</summary>
public sealed class ConfidenceInterval
{
    /// <summary>Creates the interval.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Lower above upper, or a non-finite bound.</exception>
    /// <exception cref="Errors.InvalidConfigurationException">The level lies outside (0, 1).</exception>
    public ConfidenceInterval(double lower, double upper, double level)
    {
        if (!double.IsFinite(lower) || !double.IsFinite(upper))
            throw new ArgumentOutOfRangeException(nameof(lower), $"Interval bounds must be finite, got [{lower}, {upper}].");
        if (lower > upper)
            throw new ArgumentOutOfRangeException(nameof(lower), $"The lower bound {lower} lies above the upper bound {upper}.");
        SettingRules.ThrowIf("confidence level", SettingRules.ConfidenceLevel(nameof(level), level));
        Lower = lower;
        Upper = upper;
        Level = level;
    }

    /// <summary>Lower bound.</summary>
    public double Lower { get; }

    /// <summary>Upper bound.</summary>
    public double Upper { get; }

    /// <summary>Confidence level, e.g. 0.95.</summary>
    public double Level { get; }

    /// <summary>True when 0 lies outside the interval (both bounds strictly above, or both strictly below 0).</summary>
    public bool ExcludesZero => Lower > 0 || Upper < 0;

    /// <summary>True when the whole interval lies within [−<paramref name="margin"/>, +<paramref name="margin"/>] (an equivalence claim).</summary>
    public bool WithinMargin(double margin) => Lower >= -margin && Upper <= margin;

    /// <summary>E.g. <c>[0.0123, 0.0456]</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lower:F4}, {Upper:F4}]");
}
