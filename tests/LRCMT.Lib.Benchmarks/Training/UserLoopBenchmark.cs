using System.Globalization;
using LRCMT.Benchmarks.Harness;
using LRCMT.Benchmarks.Tokenizers;

namespace LRCMT.Benchmarks.Training;

/// <summary>
/// Issue 28, goal 1: full fine-tuning of bert-base (batch 8 × 64, one thread) written as a user's own loop, PyTorch
/// (<c>pytorch_user_loop.py</c>, run by <c>python3</c>) beside the library (<see cref="UserLoopChild"/>: public
/// <c>LeanAdamW</c>, with and without <c>NativeHeap.Apply(HeapPolicy.Training)</c>, and TorchSharp's stock AdamW). Every
/// case runs in its own process, the cases interleaved round by round; the table gives medians over rounds and the
/// ratio of each peak to PyTorch's. Goal: peak ≤ 1.0× PyTorch. Times compare only where both sides use the same BLAS.
/// </summary>
public sealed class UserLoopBenchmark : ISelfReportingGroup
{
    private const string Batch = "8", Seq = "64";

    private static readonly (string Label, string Spec)[] Cases =
    [
        ("PyTorch, torch.optim.AdamW", "pytorch"),
        ("LeanAdamW", "lean"),
        ("LeanAdamW, HeapPolicy.Training", "lean:training"),
        ("TorchSharp AdamW, HeapPolicy.Training", "stock:training"),
    ];

    public string Name => "user-loop";

    public string Description => $"full fine-tuning in a user's loop, [{Batch}, {Seq}], 1 thread: PyTorch (python3) beside LeanAdamW / TorchSharp AdamW, fresh process per case, peak RSS ratio";

    public IEnumerable<BenchmarkCase> CreateCases() => [];

    public void Report(int runs)
    {
        // Each process runs `runs` timed steps (2–8) after one untimed step; LRCMT_USER_LOOP_ROUNDS rounds (default 3);
        // LRCMT_USER_LOOP_SIZE=minilm for a quicker look.
        int steps = Math.Clamp(runs, 2, 8);
        int rounds = int.Parse(Environment.GetEnvironmentVariable("LRCMT_USER_LOOP_ROUNDS") ?? "3", CultureInfo.InvariantCulture);
        var size = Environment.GetEnvironmentVariable("LRCMT_USER_LOOP_SIZE") ?? "bert-base";
        var script = Path.Combine(TokenizerCorpus.RepositoryRoot(), "tests", "LRCMT.Lib.Benchmarks", "Training", "pytorch_user_loop.py");
        var python = Environment.GetEnvironmentVariable("LRCMT_PYTHON") ?? "python3";
        string stepCount = steps.ToString(CultureInfo.InvariantCulture);

        Console.WriteLine($"load average before: {ChildProcess.LoadAverage()}");
        var results = Cases.ToDictionary(c => c.Spec, _ => new List<double[]>());
        for (int round = 0; round < rounds; round++)
            foreach (var (_, spec) in Cases)
            {
                var values = spec == "pytorch"
                    ? ChildProcess.RunProgram(python, script, size, Batch, Seq, stepCount)
                    : ChildProcess.Run("--child-user-loop", $"{size}:{spec.Split(':')[0]}:{Batch}:{Seq}{(spec.Contains(':') ? ":" + spec.Split(':')[1] : "")}", stepCount);
                if (values.Length >= 6) results[spec].Add(values);
            }

        Console.WriteLine($"{size} [{Batch}, {Seq}], {steps} steps, {rounds} rounds");
        Console.WriteLine($"{"case",-40} {"min ms",9} {"median ms",10} {"peak MB",8} {"end RSS MB",11} {"MB/step",8} {"peak / PyTorch",15}");
        var torchPeak = results["pytorch"].Count > 0 ? Statistics.Median(results["pytorch"].Select(v => v[2])) : double.NaN;
        foreach (var (label, spec) in Cases)
        {
            var list = results[spec];
            if (list.Count == 0)
            {
                Console.WriteLine($"{label,-40} failed{(spec == "pytorch" ? $" ({python} with torch not found?)" : " (see stderr)")}");
                continue;
            }
            double Median(int column) => Statistics.Median(list.Select(v => v[column]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-40} {list.Min(v => v[0]),9:F0} {Median(1),10:F0} {Median(2),8:F0} {Median(3),11:F0} {Median(5),8:F1} {Median(2) / torchPeak,14:F2}x"));
        }
        Console.WriteLine("goal: peak <= 1.00x PyTorch (issue 28, item 1). Times: Debian's PyTorch uses a generic BLAS, libtorch MKL; compare memory.");
        Console.WriteLine($"load average after: {ChildProcess.LoadAverage()}");
    }
}
