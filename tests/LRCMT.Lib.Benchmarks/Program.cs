using System.Reflection;
using LRCMT.Benchmarks.Harness;
using TorchSharp;

// Usage: dotnet run -c Release --project tests/LRCMT.Lib.Benchmarks -- [--filter text] [--runs N] [--warmup N] [--list]
// (--child-train-step SPEC STEPS is how train-step-memory runs each case in a fresh process.)
if (args.Length == 3 && args[0] == "--child-train-step")
    return LRCMT.Benchmarks.Training.TrainStepChild.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
if (args.Length == 3 && args[0] == "--child-write-checkpoint")
    return LRCMT.Benchmarks.Training.TrainStepChild.WriteCheckpoint(args[1], args[2]);
// (--child-user-loop SPEC STEPS is how user-loop runs each .NET case in a fresh process.)
if (args.Length == 3 && args[0] == "--child-user-loop")
    return LRCMT.Benchmarks.Training.UserLoopChild.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
// (--child-inference SPEC FORWARDS is how inference-memory runs each case in a fresh process.)
if (args.Length == 3 && args[0] == "--child-inference")
    return LRCMT.Benchmarks.Inference.InferenceChild.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
// (--child-onnx-inference SPEC RUNS is how onnx-inference runs each engine and case in a fresh process.)
if (args.Length == 3 && args[0] == "--child-onnx-inference")
    return LRCMT.Benchmarks.Export.InferenceChild.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
// (--export-inference-models DIR writes the onnx-inference models, for running --child-onnx-inference by hand.)
if (args.Length == 2 && args[0] == "--export-inference-models")
    return LRCMT.Benchmarks.Export.OnnxInferenceBenchmark.ExportModels(args[1]).Count > 0 ? 0 : 1;
// (--gpu-lora-step DIR fp32|bf16 STEPS is the .NET half of gpu/run-gpu-bench.sh.)
if (args.Length == 4 && args[0] == "--gpu-lora-step")
    return LRCMT.Benchmarks.Gpu.GpuLoRAStep.Run(args[1], args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));

var filter = Option("--filter");
int runs = int.Parse(Option("--runs") ?? "15", System.Globalization.CultureInfo.InvariantCulture);
int warmup = int.Parse(Option("--warmup") ?? "3", System.Globalization.CultureInfo.InvariantCulture);

var groups = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmarkGroup).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkGroup)Activator.CreateInstance(t)!)
    .OrderBy(g => g.Name, StringComparer.Ordinal)
    .Where(g => filter is null || g.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))
    .ToList();

if (args.Contains("--list"))
{
    foreach (var group in groups) Console.WriteLine($"{group.Name}: {group.Description}");
    return 0;
}
if (groups.Count == 0)
{
    Console.Error.WriteLine($"No benchmark group matches '{filter}'. Use --list to see them.");
    return 1;
}

Console.WriteLine($"LRCMT.Lib benchmarks — {Environment.ProcessorCount} logical CPUs, torch threads {torch.get_num_threads()}, " +
                  $"warmup {warmup}, median of {runs} runs");
var runner = new BenchmarkRunner(warmup, runs);
foreach (var group in groups)
{
    try { runner.Run(group); }
    catch (Exception e) { Console.WriteLine($"{group.Name} failed: {e.GetType().Name}: {e.Message}"); }
}
return 0;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
