using System.Globalization;
using LRCMT.Benchmarks.Harness;

namespace LRCMT.Benchmarks.Training;

/// <summary>
/// Issue 28, goals 2 and 3: the peak resident memory of bert-base LoRA training (q+v, r 8, batch 8 × 64, LeanAdamW) with
/// the frozen base in float32, bfloat16 and int8, each loaded from a checkpoint the way a user loads one
/// (<c>BertModel.FromPretrained(folder, dtype)</c>; the checkpoint is a random bert-base written once to a temporary
/// folder), plus the float32 model built in memory and the bf16 base converted from it (<c>BasePrecision.Apply</c>) for
/// comparison. Every case runs in its own process (<see cref="TrainStepChild"/>), the cases interleaved round by round;
/// the table gives the median over rounds. Goals: bf16 ≤ 0.55×, int8 ≤ 0.45× the float32 peak.
/// </summary>
public sealed class LoRABaseMemoryBenchmark : ISelfReportingGroup
{
    private const string Batch = "8", Seq = "64";

    private static readonly (string Label, string DType)[] Cases =
    [
        ("fp32 base, loaded", "fp32-load"),
        ("bf16 base, loaded", "bf16-load"),
        ("int8 base, loaded", "int8"),
        ("fp32 base, built in memory", "fp32"),
        ("bf16 base, converted from fp32", "bf16"),
    ];

    public string Name => "lora-base-memory";

    public string Description => $"bert-base LoRA q+v r8 training [{Batch}, {Seq}]: peak RSS with an fp32 / bf16 / int8 base loaded from a checkpoint, fresh process per case, interleaved rounds";

    public IEnumerable<BenchmarkCase> CreateCases() => [];

    public void Report(int runs)
    {
        // Each process runs `runs` timed steps (2–8) after one untimed step; LRCMT_LORA_ROUNDS rounds (default 3).
        int steps = Math.Clamp(runs, 2, 8);
        int rounds = int.Parse(Environment.GetEnvironmentVariable("LRCMT_LORA_ROUNDS") ?? "3", CultureInfo.InvariantCulture);
        // LRCMT_CHECKPOINT names a bert-base folder written before by --child-write-checkpoint (kept); without it one is
        // written to a temporary folder (440 MB) and deleted at the end.
        var given = Environment.GetEnvironmentVariable("LRCMT_CHECKPOINT");
        var folder = string.IsNullOrEmpty(given) ? Path.Combine(Path.GetTempPath(), $"lrcmt-bench-bert-base-{Environment.ProcessId}") : given;
        try
        {
            if (string.IsNullOrEmpty(given)) ChildProcess.Run("--child-write-checkpoint", "bert-base", folder); // prints no RESULT line
            if (!File.Exists(Path.Combine(folder, "model.safetensors")))
            {
                Console.WriteLine($"lora-base-memory: no bert-base checkpoint in {folder} (see stderr)");
                return;
            }
            Environment.SetEnvironmentVariable("LRCMT_CHECKPOINT", folder); // inherited by every child
            Console.WriteLine($"load average before: {ChildProcess.LoadAverage()}");
            var results = Cases.ToDictionary(c => c.DType, _ => new List<double[]>());
            for (int round = 0; round < rounds; round++)
                foreach (var (_, dtype) in Cases)
                    if (ChildProcess.Run("--child-train-step", $"bert-base:lora:{dtype}:lean:{Batch}:{Seq}", steps.ToString(CultureInfo.InvariantCulture)) is { Length: >= 6 } values)
                        results[dtype].Add(values);

            Console.WriteLine($"bert-base LoRA q+v r8 [{Batch}, {Seq}], {steps} steps, {rounds} rounds");
            Console.WriteLine($"{"case",-34} {"peak MB",8} {"peak range",12} {"end RSS MB",11} {"min step ms",12} {"peak / fp32 loaded",19}");
            double fp32 = results["fp32-load"].Count > 0 ? Statistics.Median(results["fp32-load"].Select(v => v[2])) : double.NaN;
            foreach (var (label, dtype) in Cases)
            {
                var list = results[dtype];
                if (list.Count == 0) { Console.WriteLine($"{label,-34} failed (see stderr)"); continue; }
                double peak = Statistics.Median(list.Select(v => v[2]));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{label,-34} {peak,8:F0} {$"{list.Min(v => v[2]):F0}-{list.Max(v => v[2]):F0}",12} {Statistics.Median(list.Select(v => v[3])),11:F0} {list.Min(v => v[0]),12:F0} {peak / fp32,18:F2}x"));
            }
            Console.WriteLine("goals: bf16 <= 0.55x, int8 <= 0.45x the fp32 LoRA peak (issue 28, items 2 and 3)");
            Console.WriteLine($"load average after: {ChildProcess.LoadAverage()}");
        }
        finally
        {
            if (string.IsNullOrEmpty(given) && Directory.Exists(folder)) Directory.Delete(folder, recursive: true); // our own temporary checkpoint
        }
    }
}
