using System.Runtime.InteropServices;

namespace LRCMT.Benchmarks.Harness;

/// <summary>This process's page faults and kernel time so far, from <c>getrusage(RUSAGE_SELF)</c> (Linux).</summary>
public static class ProcessCounters
{
    /// <summary>Minor + major page faults and system (kernel) CPU milliseconds; zeros off Linux.</summary>
    public static (long PageFaults, double KernelMs) Read()
    {
        if (!OperatingSystem.IsLinux()) return (0, 0);
        // struct rusage on 64-bit Linux: two timevals (user, system), then 14 longs (maxrss … nivcsw).
        var usage = new long[18];
        if (GetResourceUsage(0, usage) != 0) return (0, 0);
        return (usage[8] + usage[9], usage[2] * 1000.0 + usage[3] / 1000.0);
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetResourceUsage(int who, [Out] long[] usage);
}
