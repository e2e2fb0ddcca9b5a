using System.Diagnostics;
using System.Globalization;
using LRCMT.Benchmarks.Bert;
using LRCMT.Checkpoints;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Benchmarks.Gpu;

/// <summary>
/// The .NET half of the GPU comparison with PyTorch + PEFT (tests/LRCMT.Lib.Benchmarks/gpu/peft_bench.py):
/// bert-base with LoRA r=8 on query+value, batch 32 × 50 tokens, AdamW on the adapters, on CUDA, in fp32 or with a
/// bf16 base. Writes the initial weights (base + adapters, our key names = Hugging Face's for the base) and the
/// batch to <c>DIR/weights.safetensors</c> and <c>DIR/batch.safetensors</c> so the Python side starts from the very
/// same model and data. Prints <c>RESULT dotnet DTYPE min_ms median_ms</c> (peak memory is sampled outside).
/// </summary>
public static class GpuLoRAStep
{
    public const long Batch = 32, Seq = 50;

    public static int Run(string directory, string dtype, int steps)
    {
        if (!cuda.is_available()) { Console.Error.WriteLine("CUDA is not available."); return 2; }
        Directory.CreateDirectory(directory);
        torch.manual_seed(1234);
        var config = BertSizes.Base() with { AddPoolingLayer = false };
        using var model = new BertModel(config);
        LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, Dropout = 0, TargetModules = ["query", "value"], Init = LoRAInit.BothRandom });
        var ids = randint(1, config.VocabSize, [Batch, Seq]);
        var mask = ones(Batch, Seq, ScalarType.Int64);
        for (int i = 0; i < Batch; i += 4) mask[i, TensorIndex.Slice(Seq - 10)] = tensor(0L); // some padding
        var weights = Path.Combine(directory, "weights.safetensors");
        if (!File.Exists(weights))
        {
            SafetensorsFile.Save(weights, model.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)));
            SafetensorsFile.Save(Path.Combine(directory, "batch.safetensors"),
                [new("input_ids", ids), new("attention_mask", mask)]);
        }

        model.to(CUDA);
        BasePrecision.Apply(model, dtype == "bf16" ? BaseDType.BFloat16 : BaseDType.Float32);
        model.train();
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var adam = new LeanAdamW(trainable, lr: 1e-4, weight_decay: 0.01);
        using var idsOnDevice = ids.cuda();
        using var maskOnDevice = mask.cuda();

        var times = new List<double>();
        for (int step = 0; step < steps + 5; step++)
        {
            cuda.synchronize();
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                adam.zero_grad();
                var hidden = model.call(idsOnDevice, maskOnDevice, null).LastHiddenState;
                hidden.to(ScalarType.Float32).pow(2).mean().backward();
                adam.step();
            }
            cuda.synchronize();
            if (step >= 5) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT dotnet {dtype} {times.Min():F2} {Harness.Statistics.Median(times):F2}"));
        return 0;
    }
}
