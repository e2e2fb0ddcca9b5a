namespace LRCMT.Evaluation;

/// <summary>
/// The few numpy behaviours MMSA's metrics depend on, reproduced so our numbers match to the last bit that matters:
/// float32 means use numpy's pairwise summation in float32, rounding is half-to-even, correlation is computed in float64.
/// </summary>
internal static class NumpyArithmetic
{
    private const int PairwiseBlock = 128;

    /// <summary><c>np.mean</c> of a float32 array: pairwise float32 sum, then a float32 division.</summary>
    public static float MeanFloat32(ReadOnlySpan<float> values) => PairwiseSum(values) / values.Length;

    /// <summary>numpy's pairwise summation (8 accumulators per block of up to 128, halves above that), all in float32.</summary>
    public static float PairwiseSum(ReadOnlySpan<float> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            float sum = 0f;
            for (int i = 0; i < n; i++) sum += a[i];
            return sum;
        }
        if (n <= PairwiseBlock)
        {
            Span<float> r = stackalloc float[8];
            a[..8].CopyTo(r);
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[i + j];
            float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int half = n / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }

    /// <summary><c>np.round</c> (half to even) of a float32 value.</summary>
    public static double RoundHalfEven(float value) => Math.Round((double)value, MidpointRounding.ToEven);

    /// <summary>
    /// <c>np.corrcoef(x, y)[0][1]</c> in float64, or null when either input has zero variance
    /// (numpy would return NaN there).
    /// </summary>
    public static double? Pearson(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
        mx /= n;
        my /= n;
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }
        if (sxx == 0 || syy == 0) return null;
        // numpy divides the covariance by each standard deviation in turn, then clips to [-1, 1].
        double c = sxy / (n - 1) / Math.Sqrt(sxx / (n - 1)) / Math.Sqrt(syy / (n - 1));
        return Math.Clamp(c, -1.0, 1.0);
    }
}
