using System.Globalization;
using LRCMT.Benchmarks.Harness;
using LRCMT.Kernels;
using LRCMT.Training;

namespace LRCMT.Benchmarks.Inference;

/// <summary>
/// all-MiniLM-L6-v2 inference (fp32, eval, no_grad, one thread): the library's <c>BertModel</c> with default settings
/// (which apply <c>HeapPolicy.Inference</c> at the first forward), opted out to glibc's heap, and under each explicit
/// <c>HeapPolicy</c>, against ONNX Runtime on the same ONNX file. Goals (issue 28, item 4): default settings ≤ 2.0× ONNX
/// Runtime's time, page faults per forward ≤ 2× ONNX Runtime's. Every case runs in its own process
/// (<see cref="InferenceChild"/>), the cases interleaved round by round; the table gives the median over rounds of
/// each process's median forward time, page faults (the loop's mean and the median forward's count) and kernel time per
/// forward, and the process's peak memory.
/// </summary>
public sealed class InferenceMemoryBenchmark : ISelfReportingGroup
{
    private static readonly (string Label, string Engine)[] Engines =
    [
        ("ONNX Runtime", "ort"),
        ("BertModel, default settings", "library:auto"),
        ("BertModel, libtorch's GEMM (LRCMT_CPU_GEMM=libtorch)", "library-libtorch:auto"),
        ("BertModel, glibc's heap (opted out)", "library:glibc"),
        ("BertModel, HeapPolicy.Inference", "library:inference"),
        ("BertModel, HeapPolicy.Training", "library:training"),
        ("its projections alone, libtorch's GEMM", "gemm"),
        ("its projections alone, library's GEMM", "gemm-library"),
    ];

    public string Name => "inference-memory";

    public string Description => "all-MiniLM-L6-v2 forward, 1 thread: BertModel per heap policy vs ONNX Runtime, fresh process per case, page faults per forward";

    public IEnumerable<BenchmarkCase> CreateCases() => [];

    public void Report(int runs)
    {
        // LRCMT_INFERENCE_SHAPES=8x64,32x128 picks the batch shapes; each process runs `runs` timed forwards, 3 rounds.
        var shapes = (Environment.GetEnvironmentVariable("LRCMT_INFERENCE_SHAPES") ?? "8x64").Split(',');
        int rounds = int.Parse(Environment.GetEnvironmentVariable("LRCMT_INFERENCE_ROUNDS") ?? "3", CultureInfo.InvariantCulture);
        Console.WriteLine($"load average before: {ChildProcess.LoadAverage()}");
        foreach (var shape in shapes)
        {
            var (batch, seq) = (shape.Split('x')[0], shape.Split('x')[1]);
            var results = Engines.ToDictionary(e => e.Engine, _ => new List<double[]>());
            for (int round = 0; round < rounds; round++)
                foreach (var (_, engine) in Engines)
                    if (ChildProcess.Run("--child-inference", $"{engine}:{batch}:{seq}", runs.ToString(CultureInfo.InvariantCulture)) is { Length: >= 7 } values)
                        results[engine].Add(values);

            Console.WriteLine($"[{batch}, {seq}]  {"case",-52} {"median ms",10} {"min ms",8} {"faults/fwd",11} {"median",7} {"kernel ms/fwd",14} {"peak MB",8} {"time / ORT",11} {"faults / ORT",13} {"median / ORT",13}");
            double ort = results["ort"].Count > 0 ? Statistics.Median(results["ort"].Select(v => v[0])) : double.NaN;
            // A count under 1 is reported against 1, so that a zero does not divide.
            double OrtFaults(int column) => results["ort"].Count > 0 ? Math.Max(1, Statistics.Median(results["ort"].Select(v => v[column]))) : double.NaN;
            double ortFaults = OrtFaults(2), ortMedianFaults = OrtFaults(6);
            foreach (var (label, engine) in Engines)
            {
                var list = results[engine];
                if (list.Count == 0) { Console.WriteLine($"{"",10}{label,-52} failed (see stderr)"); continue; }
                double Median(int column) => Statistics.Median(list.Select(v => v[column]));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{"",10}{label,-52} {Median(0),10:F1} {list.Min(v => v[1]),8:F1} {Median(2),11:F1} {Median(6),7:F0} {Median(3),14:F2} {Median(4),8:F0} {Median(0) / ort,10:F2}x {Median(2) / ortFaults,12:F1}x {Median(6) / ortMedianFaults,12:F1}x"));
            }
            if (results["library:auto"] is { Count: > 0 } auto)
                Console.WriteLine($"{"",10}default settings ran under HeapPolicy.{(HeapPolicy)(int)auto[0][5]}; goals: time <= 2.00x, faults <= 2.0x ONNX Runtime's (issue 28, item 4); " +
                                  "faults/fwd: the timed loop's faults over its forwards (one-off events included), median: the median forward's own count; " +
                                  "projections alone: the GEMMs any BertModel forward runs, the floor under its time; " +
                                  $"library's GEMM: {(CpuProjection.Current == CpuProjection.Use.Never ? "not used on this CPU with this setting" : "used on this CPU at one thread, as here")}; " +
                                  "the projections-alone rows run under glibc's own heap (no encoder forward applies the inference policy)");
        }
        Console.WriteLine($"load average after: {ChildProcess.LoadAverage()}");
    }
}
