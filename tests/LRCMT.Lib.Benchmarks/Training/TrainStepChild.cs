using System.Diagnostics;
using System.Globalization;
using LRCMT.Benchmarks.Bert;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Training;

/// <summary>
/// One training-step case, run alone in a fresh process so that VmHWM is this case's peak: builds a BERT of the
/// given size, applies the tuning, and runs AdamW steps on [batch, seq] random ids with a squared-output loss, the
/// way the library's Trainer does (one dispose scope per step, global-norm clipping at 1).
/// Prints one line: <c>RESULT min_ms median_ms peak_mb rss_mb trainable growth_mb_per_step forward_ms backward_ms update_ms</c>,
/// the growth being how much the peak rose per step after the first timed one (0 when memory has settled; glibc's
/// default heap can creep) and the last three the median time of each phase (update = clipping + AdamW).
/// </summary>
public static class TrainStepChild
{
    /// <summary>Writes a random model of <paramref name="size"/> as a Hugging Face folder (config.json + model.safetensors).</summary>
    public static int WriteCheckpoint(string size, string folder)
    {
        torch.manual_seed(5);
        var config = BertSizes.Named(size);
        using var model = new BertModel(config);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), string.Create(CultureInfo.InvariantCulture,
            $$"""{"model_type": "bert", "vocab_size": {{config.VocabSize}}, "hidden_size": {{config.HiddenSize}}, "num_hidden_layers": {{config.NumHiddenLayers}}, "num_attention_heads": {{config.NumAttentionHeads}}, "intermediate_size": {{config.IntermediateSize}}, "max_position_embeddings": {{config.MaxPositionEmbeddings}}, "type_vocab_size": {{config.TypeVocabSize}}, "hidden_act": "gelu", "layer_norm_eps": 1e-12}"""));
        LRCMT.Formats.Safetensors.SafetensorsFile.Save(Path.Combine(folder, "model.safetensors"),
            model.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)));
        return 0;
    }

    /// <param name="spec">size:tuning:dtype:optimizer:batch:seq[:heap], e.g. bert-base:full:fp32:lean:8:64; a trailing
    /// <c>:limited</c> applies <see cref="HeapPolicy.Training"/> (<see cref="NativeHeap.LimitGrowth"/>) before anything is
    /// allocated, <c>:inference</c> <see cref="HeapPolicy.Inference"/>.</param>
    public static int Run(string spec, int steps)
    {
        var parts = spec.Split(':');
        var (size, tuning, dtype, optimizer) = (parts[0], parts[1], parts[2], parts[3]);
        long batch = long.Parse(parts[4], CultureInfo.InvariantCulture), seq = long.Parse(parts[5], CultureInfo.InvariantCulture);
        var heap = parts.Length > 6 ? parts[6] switch { "limited" => HeapPolicy.Training, "inference" => HeapPolicy.Inference, _ => HeapPolicy.Default } : HeapPolicy.Default;
        if (heap != HeapPolicy.Default && !NativeHeap.Apply(heap))
            Console.Error.WriteLine("NativeHeap policies are not supported here (not glibc); measuring the default heap.");

        // LRCMT_STEP_TRACE=1 prints resident and peak memory after each phase and every step's time to stderr, with
        // glibc's heap span and in-use peak (where does the peak come from; does memory settle or creep; how much of it
        // is fragmentation?).
        bool trace = Environment.GetEnvironmentVariable("LRCMT_STEP_TRACE") == "1";
        void Phase(string name)
        {
            if (trace)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: RSS {Harness.PeakMemory.CurrentMegabytes():F0} MB, peak {Harness.PeakMemory.PeakMegabytes():F0} MB{Harness.GlibcHeap.Describe()}"));
        }
        if (trace) Harness.GlibcHeap.StartSampling();
        Phase("start");

        torch.manual_seed(5);
        var config = BertSizes.Named(size);
        // "fp32-load", "bf16-load" and "int8" read a checkpoint (LRCMT_CHECKPOINT, written by --child-write-checkpoint)
        // straight into their dtype, as BertModel.FromPretrained(folder, dtype) does; the other dtypes build a random
        // float32 model ("bf16"/"fp16" then convert it with BasePrecision.Apply).
        var folder = Environment.GetEnvironmentVariable("LRCMT_CHECKPOINT");
        if (dtype is "fp32-load" or "bf16-load" or "int8" && string.IsNullOrEmpty(folder))
        {
            Console.Error.WriteLine($"{dtype} needs LRCMT_CHECKPOINT (a folder written by --child-write-checkpoint)");
            return 1;
        }
        using var model = dtype switch
        {
            "int8" => BertModel.FromPretrained(folder!, BaseDType.Int8),
            "bf16-load" => BertModel.FromPretrained(folder!, BaseDType.BFloat16),
            "fp32-load" => BertModel.FromPretrained(folder!, BaseDType.Float32),
            _ => new BertModel(config),
        };
        Phase("model built/loaded");
        if (tuning == "lora")
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        Phase("adapters injected");
        BasePrecision.Apply(model, dtype switch { "bf16" => BaseDType.BFloat16, "fp16" => BaseDType.Float16, _ => BaseDType.Float32 });
        Phase("base precision applied");
        model.train();

        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var adam = optimizer == "stock"
            ? torch.optim.AdamW(trainable, 1e-4, weight_decay: 0.01)
            : (optim.Optimizer)new LeanAdamW(trainable, lr: 1e-4, weight_decay: 0.01);

        var ids = randint(1, config.VocabSize, [batch, seq]);
        var mask = ones(batch, seq, ScalarType.Int64);
        mask[0, TensorIndex.Slice(seq / 2)] = tensor(0L); // one padded sample, as real batches have

        var times = new List<double>();
        // Where a step's time goes (CPU ops run synchronously, so a stopwatch between the phases is exact there).
        var (forwardTimes, backwardTimes, updateTimes) = (new List<double>(), new List<double>(), new List<double>());
        double peakAfterFirstTimedStep = 0;
        for (int step = 0; step < steps + 1; step++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                adam.zero_grad();
                var output = model.call(ids, mask, null).LastHiddenState;
                var loss = output.to(ScalarType.Float32).pow(2).mean();
                double forward = clock.Elapsed.TotalMilliseconds;
                loss.backward();
                double backward = clock.Elapsed.TotalMilliseconds;
                if (optimizer == "stock") nn.utils.clip_grad_norm_(trainable, 1.0);
                else GradientClipping.ClipByGlobalNorm(trainable, 1.0);
                adam.step();
                if (step > 0)
                {
                    forwardTimes.Add(forward);
                    backwardTimes.Add(backward - forward);
                    updateTimes.Add(clock.Elapsed.TotalMilliseconds - backward);
                }
            }
            if (step > 0) times.Add(clock.Elapsed.TotalMilliseconds); // the first step allocates the optimizer state
            if (step == 1) peakAfterFirstTimedStep = Harness.PeakMemory.PeakMegabytes();
            if (trace)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {step}: {clock.Elapsed.TotalMilliseconds:F0} ms, RSS {Harness.PeakMemory.CurrentMegabytes():F0} MB, peak {Harness.PeakMemory.PeakMegabytes():F0} MB{Harness.GlibcHeap.Describe()}"));
        }

        long count = trainable.Sum(p => p.numel());
        double peak = Harness.PeakMemory.PeakMegabytes();
        double growth = steps > 1 ? (peak - peakAfterFirstTimedStep) / (steps - 1) : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {times.Min():F1} {Harness.Statistics.Median(times):F1} {peak:F0} {Harness.PeakMemory.CurrentMegabytes():F0} {count} {growth:F1} {Harness.Statistics.Median(forwardTimes):F1} {Harness.Statistics.Median(backwardTimes):F1} {Harness.Statistics.Median(updateTimes):F1}"));
        return 0;
    }
}
