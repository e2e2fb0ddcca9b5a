using System.Globalization;

namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// Resident memory of this process from <c>/proc/self/status</c>: <c>VmHWM</c> is the peak since the process
/// started (so a peak is only meaningful in a fresh process per case), <c>VmRSS</c> the current value.
/// </summary>
public static class PeakMemory
{
    public static double PeakMegabytes() => Read("VmHWM:");

    public static double CurrentMegabytes() => Read("VmRSS:");

    private static double Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return double.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
