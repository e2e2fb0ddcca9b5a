using System.Diagnostics;
using System.Globalization;
using LRCMT.Benchmarks.Harness;
using LRCMT.Data;
using LRCMT.Models;
using LRCMT.TextEncoders;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;

namespace LRCMT.Benchmarks.Export;

/// <summary>
/// One inference case in a fresh process, so its peak resident memory (VmHWM) is this engine's alone: TorchSharp on the
/// model rebuilt and loaded from the safetensors file, or ONNX Runtime on the exported file (this path touches no TorchSharp type, so libtorch
/// is never loaded). Inputs are the same arrays for both. Prints <c>RESULT median_ms peak_mb</c>.
/// </summary>
public static class InferenceChild
{
    /// <param name="spec">engine:model:batch:length:threads:file, e.g. <c>ort:lrcmt:8:64:1:/tmp/lrcmt.onnx</c> (TorchSharp: the .safetensors).</param>
    public static int Run(string spec, int runs)
    {
        var parts = spec.Split(':', 6);
        var (engine, model) = (parts[0], parts[1]);
        int batch = int.Parse(parts[2], CultureInfo.InvariantCulture), length = int.Parse(parts[3], CultureInfo.InvariantCulture);
        int threads = int.Parse(parts[4], CultureInfo.InvariantCulture);
        var inputs = Inputs(model, batch, length);
        var times = engine == "ort" ? OnnxRuntime(parts[5], inputs, threads, runs) : Torch(model, parts[5], inputs, threads, runs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {Statistics.Median(times):F2} {PeakMemory.PeakMegabytes():F0}"));
        return 0;
    }

    private sealed record Input(string Name, long[] Shape, long[]? Longs, float[]? Floats);

    // [batch, length] ids with one half-padded row, and (LRCMT) acoustic/visual sequences of the same length.
    private static List<Input> Inputs(string model, int batch, int length)
    {
        var random = new Random(3);
        var ids = Enumerable.Range(0, batch * length).Select(_ => (long)random.Next(1, (int)InferenceModels.Vocabulary)).ToArray();
        var mask = Enumerable.Range(0, batch * length).Select(i => i < length / 2 || i >= length ? 1L : 0L).ToArray();
        long[] text = [batch, length];
        var inputs = new List<Input> { new("input_ids", text, ids, null), new("attention_mask", text, mask, null), new("token_type_ids", text, new long[batch * length], null) };
        if (model == "lrcmt")
        {
            foreach (var (name, features) in new[] { ("acoustic", InferenceModels.AcousticFeatures), ("visual", InferenceModels.VisualFeatures) })
            {
                inputs.Add(new(name, [batch, length, features], null, Enumerable.Range(0, batch * length * features).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()));
                inputs.Add(new($"{name}_mask", text, mask, null));
            }
        }
        return inputs;
    }

    private static List<double> OnnxRuntime(string file, List<Input> inputs, int threads, int runs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        using var session = new InferenceSession(file, options);
        var values = inputs.Select(i => i.Longs is not null
            ? OrtValue.CreateTensorValueFromMemory(i.Longs, i.Shape)
            : OrtValue.CreateTensorValueFromMemory(i.Floats!, i.Shape)).ToList();
        var names = inputs.Select(i => i.Name).ToList();
        using var runOptions = new RunOptions();
        return Time(runs, () =>
        {
            using var results = session.Run(runOptions, names, values, session.OutputNames);
        });
    }

    private static List<double> Torch(string kind, string weights, List<Input> inputs, int threads, int runs)
    {
        torch.set_num_threads(threads);
        using var model = InferenceModels.Build(kind);
        var state = LRCMT.Formats.Safetensors.SafetensorsFile.Load(weights);
        model.load_state_dict(state);
        foreach (var tensor in state.Values) tensor.Dispose();
        torch.Tensor Tensor(string name)
        {
            var input = inputs.Single(i => i.Name == name);
            return input.Longs is not null ? torch.tensor(input.Longs, input.Shape) : torch.tensor(input.Floats!, input.Shape);
        }
        using var _ = torch.no_grad();
        if (model is LRCMTModel lrcmt)
        {
            using var batch = new MultimodalBatch(Tensor("input_ids"), Tensor("attention_mask"), Tensor("token_type_ids"),
                Tensor("acoustic"), Tensor("acoustic_mask").to(torch.ScalarType.Bool), Tensor("visual"), Tensor("visual_mask").to(torch.ScalarType.Bool), null, []);
            return Time(runs, () => { using var scope = torch.NewDisposeScope(); lrcmt.call(batch); });
        }
        var encoder = (BertModel)model;
        using var ids = Tensor("input_ids");
        using var mask = Tensor("attention_mask");
        using var types = Tensor("token_type_ids");
        return Time(runs, () => { using var scope = torch.NewDisposeScope(); encoder.call(ids, mask, types); });
    }

    private static List<double> Time(int runs, Action run)
    {
        for (var i = 0; i < 3; i++) run(); // warm-up: allocator, kernels, ONNX Runtime's first-run planning
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }
}
