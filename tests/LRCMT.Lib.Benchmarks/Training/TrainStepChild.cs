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
/// Prints one line: <c>RESULT min_ms median_ms peak_mb rss_mb trainable</c>.
/// </summary>
public static class TrainStepChild
{
    /// <param name="spec">size:tuning:dtype:optimizer:batch:seq, e.g. bert-base:full:fp32:lean:8:64.</param>
    public static int Run(string spec, int steps)
    {
        var parts = spec.Split(':');
        var (size, tuning, dtype, optimizer) = (parts[0], parts[1], parts[2], parts[3]);
        long batch = long.Parse(parts[4], CultureInfo.InvariantCulture), seq = long.Parse(parts[5], CultureInfo.InvariantCulture);

        torch.manual_seed(5);
        var config = BertSizes.Named(size);
        using var model = new BertModel(config);
        if (tuning == "lora")
            LowRankInjector.Inject(model, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        BasePrecision.Apply(model, dtype switch { "bf16" => BaseDType.BFloat16, "fp16" => BaseDType.Float16, _ => BaseDType.Float32 });
        model.train();

        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var adam = optimizer == "stock"
            ? torch.optim.AdamW(trainable, 1e-4, weight_decay: 0.01)
            : (optim.Optimizer)new LeanAdamW([new AdamW.ParamGroup(trainable, lr: 1e-4, weight_decay: 0.01)], 1e-4, 0.01);

        var ids = randint(1, config.VocabSize, [batch, seq]);
        var mask = ones(batch, seq, ScalarType.Int64);
        mask[0, TensorIndex.Slice(seq / 2)] = tensor(0L); // one padded sample, as real batches have

        var times = new List<double>();
        for (int step = 0; step < steps + 1; step++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                adam.zero_grad();
                var output = model.call(ids, mask, null).LastHiddenState;
                var loss = output.to(ScalarType.Float32).pow(2).mean();
                loss.backward();
                if (optimizer == "stock") nn.utils.clip_grad_norm_(trainable, 1.0);
                else GradientClipping.ClipByGlobalNorm(trainable, 1.0);
                adam.step();
            }
            if (step > 0) times.Add(clock.Elapsed.TotalMilliseconds); // the first step allocates the optimizer state
        }

        times.Sort();
        long count = trainable.Sum(p => p.numel());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {times[0]:F1} {times[times.Count / 2]:F1} {Harness.PeakMemory.PeakMegabytes():F0} {Harness.PeakMemory.CurrentMegabytes():F0} {count}"));
        return 0;
    }
}
