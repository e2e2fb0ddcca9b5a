using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace LRCMT.Benchmarks.Harness;

/// <summary>
/// Runs each case of a group <c>warmup</c> times untimed, then <c>runs</c> timed rounds and prints median and min.
/// Rounds visit the cases in turn, so a change in machine load during the run hits every case alike.
/// </summary>
public sealed class BenchmarkRunner(int warmup, int runs)
{
    public void Run(IBenchmarkGroup group)
    {
        Console.WriteLine();
        Console.WriteLine($"## {group.Name}: {group.Description}");
        if (group is ISelfReportingGroup self)
        {
            self.Report(runs);
            return;
        }
        var cases = group.CreateCases().ToList();
        try
        {
            foreach (var benchmark in cases)
                for (int i = 0; i < warmup; i++) Once(benchmark.Iteration);

            var times = cases.Select(_ => new double[runs]).ToList();
            for (int round = 0; round < runs; round++)
                for (int c = 0; c < cases.Count; c++)
                    times[c][round] = Once(cases[c].Iteration);

            Console.WriteLine($"{"case",-60} {"median ms",10} {"min ms",10} {"median vs first",16}");
            double baseline = Statistics.Median(times[0]);
            for (int c = 0; c < cases.Count; c++)
            {
                double median = Statistics.Median(times[c]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{cases[c].Name,-60} {median,10:F2} {times[c].Min(),10:F2} {median / baseline,15:F2}x"));
            }
        }
        finally
        {
            foreach (var benchmark in cases) benchmark.Dispose();
        }
    }

    // Temporaries of one iteration are freed with it, so memory pressure does not leak into later measurements.
    private static double Once(Action iteration)
    {
        using var scope = torch.NewDisposeScope();
        var clock = Stopwatch.StartNew();
        iteration();
        return clock.Elapsed.TotalMilliseconds;
    }
}
