using System.Globalization;
using System.Runtime.InteropServices;

namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// glibc's own account of its heap (<c>mallinfo2</c>), for traces: how far the heap spans, how much of it is in use, and
/// the most that was ever in use at once, seen by a thread that samples every millisecond once
/// <see cref="StartSampling"/> ran. Resident memory follows the span; the gap to the in-use peak is fragmentation.
/// Off glibc the description is empty.
/// </summary>
public static class GlibcHeap
{
    private static long _maxInUse;

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    private static MallInfo2? Read()
    {
        try
        {
            return MallInfo();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Starts the background thread that records the largest in-use count (it stops with the process).</summary>
    public static void StartSampling()
    {
        if (Read() is null) return;
        var thread = new Thread(() =>
        {
            while (true)
            {
                long used = (long)MallInfo().Uordblks;
                if (used > Interlocked.Read(ref _maxInUse)) Interlocked.Exchange(ref _maxInUse, used);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "glibc heap sampler" };
        thread.Start();
    }

    /// <summary>" | heap span S MB, in use U MB (peak P), in mappings M MB", or "" off glibc.</summary>
    public static string Describe() => Read() is { } m
        ? string.Create(CultureInfo.InvariantCulture,
            $" | heap span {m.Arena / 1048576.0:F0} MB, in use {m.Uordblks / 1048576.0:F0} MB (peak {Interlocked.Read(ref _maxInUse) / 1048576.0:F0}), in mappings {m.Hblkhd / 1048576.0:F0} MB")
        : "";
}
