using System.Diagnostics;
using System.Globalization;
using LRCMT.Benchmarks.Harness;
using LRCMT.Export;
using LRCMT.Models;
using LRCMT.TextEncoders;

namespace LRCMT.Benchmarks.Export;

/// <summary>
/// Inference of the exported models, TorchSharp vs ONNX Runtime: median ms per batch and peak resident memory, a
/// MiniLM-shaped BERT and a full LRCMT on it, batches 1×32, 8×64 and 32×128, 1 and 2 threads. The models are exported
/// once here; every engine × case then runs in its own fresh process (<see cref="InferenceChild"/>), the two engines
/// of a case one after the other, so machine load hits both alike. Both read their weights from a file, as a service
/// does: ONNX Runtime the .onnx, TorchSharp a safetensors copy of the same state dict loaded into the rebuilt model.
/// Goal: ONNX Runtime ≤ 0.5× TorchSharp's time and ≤ 0.65× its peak memory.
/// </summary>
public sealed class OnnxInferenceBenchmark : ISelfReportingGroup
{
    private static readonly (int Batch, int Length)[] Shapes = [(1, 32), (8, 64), (32, 128)];

    public string Name => "onnx-inference";

    public string Description => "exported MiniLM and LRCMT: TorchSharp vs ONNX Runtime ms/batch and peak RSS, fresh process per engine and case";

    public IEnumerable<BenchmarkCase> CreateCases() => [];

    public void Report(int runs)
    {
        var folder = Directory.CreateTempSubdirectory("lrcmt-onnx-bench-").FullName;
        try
        {
            var files = ExportModels(folder);

            Console.WriteLine($"{"case",-28} {"torch ms",9} {"ort ms",9} {"ort/torch",10} {"torch MB",9} {"ort MB",9} {"ort/torch",10} {"ext ms",8} {"ext MB",8} {"ext/torch",10}");
            foreach (var kind in Models())
            foreach (var threads in new[] { 1, 2 })
            foreach (var (batch, length) in Shapes)
            {
                var spec = string.Create(CultureInfo.InvariantCulture, $"{kind}:{batch}:{length}:{threads}");
                var torch = RunChild($"torch:{spec}:{Path.ChangeExtension(files[kind], ".safetensors")}", runs);
                var ort = RunChild($"ort:{spec}:{files[kind]}", runs);
                var ext = RunChild($"ort:{spec}:{ExternalPath(files[kind])}", runs);
                var label = string.Create(CultureInfo.InvariantCulture, $"{kind} {batch}x{length}, {threads} thr");
                Console.WriteLine(torch.Length < 2 || ort.Length < 2 || ext.Length < 2
                    ? $"{label,-28} failed (its output is on stderr)"
                    : string.Create(CultureInfo.InvariantCulture,
                        $"{label,-28} {torch[0],9:F1} {ort[0],9:F1} {ort[0] / torch[0],9:F2}x {torch[1],9:F0} {ort[1],9:F0} {ort[1] / torch[1],9:F2}x {ext[0],8:F1} {ext[1],8:F0} {ext[1] / torch[1],9:F2}x"));
            }
            Console.WriteLine("ext = ONNX Runtime on the same model exported with OnnxExportOptions.ExternalWeights. Targets: ort/torch time <= 0.50x, peak <= 0.65x");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Exports the compared models into <paramref name="folder"/>; returns their files by model name.</summary>
    public static Dictionary<string, string> ExportModels(string folder)
    {
        var files = new Dictionary<string, string>();
        foreach (var kind in Models())
        {
            using var model = InferenceModels.Build(kind);
            var path = Path.Combine(folder, $"{kind}.onnx");
            var result = model is LRCMTModel lrcmt ? OnnxExporter.Export(lrcmt, path) : OnnxExporter.Export((TextEncoder)model, path);
            // The same model with its weights in an external data file, which ONNX Runtime maps instead of copying.
            var external = new OnnxExportOptions(ExternalWeights: true);
            _ = model is LRCMTModel m ? OnnxExporter.Export(m, ExternalPath(path), external) : OnnxExporter.Export((TextEncoder)model, ExternalPath(path), external);
            // TorchSharp reads its weights from a file too, as a service would (same values as the ONNX file).
            LRCMT.Formats.Safetensors.SafetensorsFile.Save(Path.ChangeExtension(path, ".safetensors"), model.state_dict());
            files[kind] = path;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind}: exported {result.Bytes / 1e6:F1} MB"));
        }
        return files;
    }

    private static string ExternalPath(string path) => Path.ChangeExtension(path, null) + "-external.onnx";

    // LRCMT_ONNX_MODELS=minilm (or lrcmt) limits the run to one model; the default runs both.
    private static string[] Models() => (Environment.GetEnvironmentVariable("LRCMT_ONNX_MODELS") ?? "minilm,lrcmt").Split(',');

    private static double[] RunChild(string spec, int runs)
    {
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(OnnxInferenceBenchmark).Assembly.Location);
        foreach (var arg in new[] { "--child-onnx-inference", spec, runs.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        // libtorch's start-up notices (NNPACK on CPUs it does not support) go to stderr; shown only when the case fails.
        var errors = child.StandardError.ReadToEndAsync();
        var output = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(20))) child.Kill(entireProcessTree: true);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (line is null) Console.Error.WriteLine($"{spec}: {output}{errors.Result}");
        return line is null ? [] : line[7..].Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }
}
