using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace LRCMT.Benchmarks.Harness;

/// <summary>Runs each case <c>warmup</c> times untimed, then <c>runs</c> times timed, and prints median and min.</summary>
public sealed class BenchmarkRunner(int warmup, int runs)
{
    public void Run(IBenchmarkGroup group)
    {
        Console.WriteLine();
        Console.WriteLine($"## {group.Name}: {group.Description}");
        Console.WriteLine($"{"case",-44} {"median ms",10} {"min ms",10} {"vs first",9}");
        double? baseline = null;
        foreach (var benchmark in group.CreateCases())
        {
            using (benchmark)
            {
                var times = Measure(benchmark.Iteration);
                double median = times[times.Length / 2];
                baseline ??= median;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{benchmark.Name,-44} {median,10:F2} {times[0],10:F2} {median / baseline.Value,8:F2}x"));
            }
        }
    }

    private double[] Measure(Action iteration)
    {
        for (int i = 0; i < warmup; i++) Once(iteration);
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            Once(iteration);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }

    // Temporaries of one iteration are freed with it, so memory pressure does not leak into later measurements.
    private static void Once(Action iteration)
    {
        using var scope = torch.NewDisposeScope();
        iteration();
    }
}
