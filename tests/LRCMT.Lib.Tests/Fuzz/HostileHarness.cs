using System.Globalization;

namespace LRCMT.Tests.Fuzz;

/// <summary>
/// One generated hostile input: how it was made (for the failure message; an object whose text may be completed when
/// the case is written) and how to put it at a path.
/// </summary>
internal sealed record HostileCase(object How, Action<string> WriteTo);

/// <summary>
/// Runs hostile cases against a loader the way issue 27 states the bar: each case ends within 10 s (a hang fails the
/// test instead of blocking it), allocates at most <see cref="AllocationLimit"/> managed bytes (a small file must not
/// make the loader allocate what it claims), and either loads or throws an exception <paramref name="typed"/> accepts
/// (an <c>LrcmtException</c> for the library). <c>LRCMT_FUZZ_CASES</c> raises the number of generated cases per class
/// (docs/reliability.md, "Fuzz suite").
/// </summary>
internal static class HostileHarness
{
    internal static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    /// <summary>Managed bytes one case may allocate: the smallest input limit (16 MiB) and room for the loader's own work.</summary>
    internal const long AllocationLimit = 64L << 20;

    /// <summary>Generated cases per class: 40 in CI, <c>LRCMT_FUZZ_CASES</c> / 10 when that is larger.</summary>
    internal static int Cases =>
        Math.Max(40, (int.TryParse(Environment.GetEnvironmentVariable("LRCMT_FUZZ_CASES"), out var n) ? n : 0) / 10);

    /// <summary>The seed of a class's generator: fixed in CI, <c>LRCMT_FUZZ_SEED</c> picks another sample.</summary>
    internal static int Seed(int salt) =>
        (int.TryParse(Environment.GetEnvironmentVariable("LRCMT_FUZZ_SEED"), out var seed) ? seed : 27) * 7919 + salt;

    /// <summary>
    /// Writes each case to <c>folder/name</c> (a fresh sub-folder per case), runs <paramref name="load"/> on that path and
    /// returns one line per case that broke the bar, and the number of cases refused and loaded.
    /// </summary>
    internal static (List<string> Failures, int Refused, int Loaded) Run(
        string folder, string name, IEnumerable<HostileCase> cases, Action<string> load, Func<Exception, bool> typed)
    {
        var failures = new List<string>();
        int refused = 0, loaded = 0, index = 0;
        foreach (var hostile in cases)
        {
            string caseFolder = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"case-{index++}"));
            Directory.CreateDirectory(caseFolder);
            string path = Path.Combine(caseFolder, name);
            hostile.WriteTo(path);
            var (error, allocated) = Within(() => load(path));
            if (error is TimeoutException) failures.Add($"{hostile.How}: still running after {HangLimit.TotalSeconds} s");
            else if (error is not null && !typed(error)) failures.Add($"{hostile.How}: {error.GetType().Name}: {error.Message} at {Where(error)}");
            else if (allocated > AllocationLimit) failures.Add($"{hostile.How}: allocated {allocated:N0} managed bytes (limit {AllocationLimit:N0})");
            else if (error is null) loaded++;
            else refused++;
            if (error is not TimeoutException) HostileFileKinds.Remove(caseFolder);
        }

        return (failures, refused, loaded);
    }

    // The first frames of the library that the exception passed through, so a failure says where to fix it.
    private static string Where(Exception e) =>
        string.Join(" < ", (e.StackTrace ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("at LRCMT.", StringComparison.Ordinal) && !l.Contains(".Tests.", StringComparison.Ordinal)).Take(3));

    // The exception the action threw (a TimeoutException when it did not end in time) and the managed bytes it allocated.
    private static (Exception? Error, long Allocated) Within(Action action)
    {
        long allocated = 0;
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                action();
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(HangLimit)) return (new TimeoutException(), 0);
        return (task.Exception?.InnerException, allocated);
    }
}
