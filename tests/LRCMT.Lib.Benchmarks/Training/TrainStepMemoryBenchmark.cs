using System.Globalization;
using LRCMT.Benchmarks.Harness;

namespace LRCMT.Benchmarks.Training;

/// <summary>
/// Training step time and peak resident memory, full fine-tuning vs LoRA (r=8 on query+value), fp32 vs bf16 base,
/// TorchSharp's stock AdamW vs the library's LeanAdamW, at MiniLM and bert-base sizes. Every case runs in its own
/// process (<see cref="TrainStepChild"/>), so each peak (VmHWM) belongs to one case alone. "heap limited" cases call
/// <c>NativeHeap.LimitGrowth</c> first; "MB/step" is how much the peak still rose per step after the first timed step.
/// </summary>
public sealed class TrainStepMemoryBenchmark : ISelfReportingGroup
{
    private const string Batch = "8", Seq = "64";

    private static readonly (string Label, string Spec)[] Cases =
    [
        ("MiniLM full FT, stock AdamW", "minilm:full:fp32:stock"),
        ("MiniLM full FT, LeanAdamW", "minilm:full:fp32:lean"),
        ("MiniLM LoRA q+v r8, fp32 base", "minilm:lora:fp32:lean"),
        ("MiniLM LoRA q+v r8, bf16 base", "minilm:lora:bf16:lean"),
        ("bert-base full FT, stock AdamW", "bert-base:full:fp32:stock"),
        ("bert-base full FT, LeanAdamW", "bert-base:full:fp32:lean"),
        ("bert-base LoRA q+v r8, fp32 base", "bert-base:lora:fp32:lean"),
        ("bert-base LoRA q+v r8, bf16 base", "bert-base:lora:bf16:lean"),
        ("bert-base LoRA q+v r8, int8 base", "bert-base:lora:int8:lean"),
        ("bert-base full FT, LeanAdamW, heap limited", "bert-base:full:fp32:lean:limited"),
        ("bert-base LoRA fp32 base, heap limited", "bert-base:lora:fp32:lean:limited"),
        ("bert-base LoRA bf16 base, heap limited", "bert-base:lora:bf16:lean:limited"),
    ];

    public string Name => "train-step-memory";

    public string Description => $"AdamW training step of BertModel on [{Batch}, {Seq}] ids, one fresh process per case: min step ms and peak RSS (VmHWM)";

    public IEnumerable<BenchmarkCase> CreateCases() => [];

    public void Report(int runs)
    {
        int steps = Math.Clamp(runs, 2, 8);
        var results = new Dictionary<string, double[]>();
        // LRCMT_TRAIN_SIZES=minilm (or bert-base) limits the run to one size; the default runs both.
        var sizes = (Environment.GetEnvironmentVariable("LRCMT_TRAIN_SIZES") ?? "minilm,bert-base").Split(',');
        Console.WriteLine($"load average before: {ChildProcess.LoadAverage()}");
        Console.WriteLine($"{"case",-44} {"min ms",10} {"median ms",10} {"peak MB",9} {"end RSS MB",11} {"trainable",11} {"MB/step",8}");
        foreach (var (label, spec) in Cases.Where(c => sizes.Contains(c.Spec.Split(':')[0])))
        {
            var parts = spec.Split(':');
            var values = RunChild(string.Join(':', parts.Take(4).Append(Batch).Append(Seq).Concat(parts.Skip(4))), steps);
            results[spec] = values;
            Console.WriteLine(values.Length == 0
                ? $"{label,-44} failed (see stderr)"
                : string.Create(CultureInfo.InvariantCulture, $"{label,-44} {values[0],10:F0} {values[1],10:F0} {values[2],9:F0} {values[3],11:F0} {values[4],11:N0} {values[5],8:F1}"));
        }

        Console.WriteLine();
        Console.WriteLine($"{"where the median step goes (ms)",-44} {"forward",10} {"backward",10} {"update",10}");
        foreach (var (label, spec) in Cases)
            if (results.TryGetValue(spec, out var v) && v.Length >= 9)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-44} {v[6],10:F0} {v[7],10:F0} {v[8],10:F0}"));

        Console.WriteLine();
        foreach (var size in sizes)
        {
            Ratio($"{size}: LoRA / full FT step (min)", results, $"{size}:lora:fp32:lean", $"{size}:full:fp32:lean", 0, "target <= 0.5");
            Ratio($"{size}: LoRA / full FT peak", results, $"{size}:lora:fp32:lean", $"{size}:full:fp32:lean", 2, "");
            Ratio($"{size}: full FT peak, LeanAdamW / stock", results, $"{size}:full:fp32:lean", $"{size}:full:fp32:stock", 2, "");
            Ratio($"{size}: bf16-base / fp32-base LoRA peak", results, $"{size}:lora:bf16:lean", $"{size}:lora:fp32:lean", 2, "target <= 0.55");
            Ratio($"{size}: int8-base / fp32-base LoRA peak", results, $"{size}:lora:int8:lean", $"{size}:lora:fp32:lean", 2, "target <= 0.45");
            Ratio($"{size}: bf16-base / fp32-base LoRA step", results, $"{size}:lora:bf16:lean", $"{size}:lora:fp32:lean", 0, "");
            Ratio($"{size}: full FT step, heap limited / default", results, $"{size}:full:fp32:lean:limited", $"{size}:full:fp32:lean", 0, "");
            Ratio($"{size}: bf16/fp32-base LoRA peak, heap limited", results, $"{size}:lora:bf16:lean:limited", $"{size}:lora:fp32:lean:limited", 2, "target <= 0.6");
        }
        Console.WriteLine($"load average after: {ChildProcess.LoadAverage()}");
        if (results.TryGetValue("bert-base:full:fp32:lean", out var full) && full.Length > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"bert-base full FT peak (GB)",-45} {full[2] / 1024,8:F2}   target <= 2.8 (then +{full[5]:F0} MB per step)"));
        if (results.TryGetValue("bert-base:full:fp32:lean:limited", out var limited) && limited.Length > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"bert-base full FT peak, heap limited (GB)",-45} {limited[2] / 1024,8:F2}   target <= 2.8 (then +{limited[5]:F0} MB per step)"));
    }

    private static void Ratio(string label, Dictionary<string, double[]> results, string numerator, string denominator, int column, string target)
    {
        if (!results.TryGetValue(numerator, out var top) || !results.TryGetValue(denominator, out var bottom) || top.Length == 0 || bottom.Length == 0) return;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-45} {top[column] / bottom[column],8:F2}x  {target}"));
    }

    private static double[] RunChild(string spec, int steps)
        => ChildProcess.Run("--child-train-step", spec, steps.ToString(CultureInfo.InvariantCulture));
}
