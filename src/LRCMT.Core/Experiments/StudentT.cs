using LRCMT.Configuration;
namespace LRCMT.Experiments;

/// <summary>
/// Student's t distribution with an integer number of degrees of freedom: the cumulative distribution from the
/// closed-form finite series for integer degrees of freedom (Abramowitz and Stegun 26.7.3–26.7.4), and quantiles by
/// bisection on it. Enough for confidence intervals over a handful of seeds, where the degrees of freedom are n − 1.
/// </summary>
internal static class StudentT
{
    /// <summary>P(T ≤ <paramref name="t"/>) for T with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Degrees of freedom below 1, or <paramref name="t"/> is NaN.</exception>
    public static double Cdf(double t, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (double.IsNaN(t)) throw new ArgumentOutOfRangeException(nameof(t), t, "t must be a number.");
        if (double.IsPositiveInfinity(t)) return 1;
        if (double.IsNegativeInfinity(t)) return 0;
        double central = CentralProbability(Math.Abs(t), degreesOfFreedom);
        return t >= 0 ? 0.5 + central / 2 : 0.5 - central / 2;
    }

    /// <summary>The t value below which the distribution has <paramref name="probability"/> (the inverse of <see cref="Cdf"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> outside (0, 1), or degrees of freedom below 1.</exception>
    public static double Quantile(double probability, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (!(probability > 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must lie strictly between 0 and 1.");
        if (probability == 0.5) return 0;
        if (probability < 0.5) return -Quantile(1 - probability, degreesOfFreedom);

        double low = 0, high = 1;
        while (Cdf(high, degreesOfFreedom) < probability) high *= 2;
        for (int i = 0; i < 200 && high - low > 1e-13 * Math.Max(1, high); i++)
        {
            double middle = (low + high) / 2;
            if (Cdf(middle, degreesOfFreedom) < probability) low = middle;
            else high = middle;
        }
        return (low + high) / 2;
    }

    /// <summary>The critical value c with P(−c ≤ T ≤ c) = <paramref name="level"/> (2.776 for 95% and 4 degrees of freedom).</summary>
    public static double TwoSidedCritical(double level, int degreesOfFreedom)
    {
        SettingRules.ThrowIf("confidence level", SettingRules.ConfidenceLevel(nameof(level), level));
        return Quantile(0.5 + level / 2, degreesOfFreedom);
    }

    /// <summary>A(t | ν) = P(|T| ≤ t) for t ≥ 0, as a finite sum in θ = atan(t / √ν).</summary>
    private static double CentralProbability(double t, int nu)
    {
        double theta = Math.Atan(t / Math.Sqrt(nu));
        double sin = Math.Sin(theta), cos = Math.Cos(theta), cos2 = cos * cos;
        if (nu % 2 == 0)
        {
            // sinθ · [1 + (1/2)cos²θ + (1·3)/(2·4)cos⁴θ + … up to cos^(ν−2)θ]
            double term = 1, sum = 1;
            for (int k = 2; k <= nu - 2; k += 2)
            {
                term *= (k - 1) / (double)k * cos2;
                sum += term;
            }
            return Math.Clamp(sin * sum, 0, 1);
        }
        else
        {
            // (2/π) · [θ + sinθ · (cosθ + (2/3)cos³θ + (2·4)/(3·5)cos⁵θ + … up to cos^(ν−2)θ)]   (ν = 1: 2θ/π)
            if (nu == 1) return 2 * theta / Math.PI;
            double term = cos, sum = cos;
            for (int k = 3; k <= nu - 2; k += 2)
            {
                term *= (k - 1) / (double)k * cos2;
                sum += term;
            }
            return Math.Clamp(2 / Math.PI * (theta + sin * sum), 0, 1);
        }
    }
}
