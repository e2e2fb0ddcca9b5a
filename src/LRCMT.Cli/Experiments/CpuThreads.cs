using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Chooses libtorch's CPU thread count. libtorch's worker threads spin while they wait for each other, so on a
/// machine whose cores are already busy (load average above the core count) two threads can be several times
/// slower than one; "auto" then uses one thread, and otherwise keeps libtorch's default of one per core.
/// </summary>
internal static class CpuThreads
{
    /// <summary>Applies <paramref name="configured"/> (0 = auto) and returns the count in effect.</summary>
    internal static int Apply(int configured)
    {
        int threads = configured > 0 ? configured : MachineIsBusy() ? 1 : 0;
        if (threads > 0) torch.set_num_threads(threads);
        return torch.get_num_threads();
    }

    /// <summary>How <paramref name="inEffect"/> threads came from the setting <paramref name="configured"/> (0 = auto).</summary>
    internal static string Describe(int configured, int inEffect) =>
        configured > 0 ? "set"
        : inEffect == 1 && Environment.ProcessorCount > 1 ? "auto: the machine is busy"
        : "auto: one per core";

    private static bool MachineIsBusy()
    {
        // Linux only; elsewhere keep libtorch's default.
        const string loadFile = "/proc/loadavg";
        if (!File.Exists(loadFile)) return false;
        var first = File.ReadAllText(loadFile).Split(' ')[0];
        return double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out double load) && load > Environment.ProcessorCount;
    }
}
