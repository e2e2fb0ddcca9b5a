using System.Diagnostics;
using System.Globalization;
using LRCMT.Benchmarks.Bert;
using LRCMT.Benchmarks.Harness;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.Training;

/// <summary>
/// The .NET half of the <c>user-loop</c> group, in a fresh process: full fine-tuning of a random <see cref="BertModel"/>
/// the way a user writes the loop with the library's public API — one dispose scope per step, <c>zero_grad</c>, forward,
/// loss = mean(last_hidden_state²), backward, AdamW step (lr 1e-4, weight decay 0.01), no clipping, one thread — the
/// same loop as <c>pytorch_user_loop.py</c>. Prints the same <c>RESULT</c> line as <see cref="TrainStepChild"/>.
/// </summary>
public static class UserLoopChild
{
    /// <param name="spec">size:optimizer:batch:seq[:heap]: optimizer <c>lean</c> (<see cref="LeanAdamW"/>) or <c>stock</c>
    /// (TorchSharp's AdamW); heap <c>training</c> calls <c>NativeHeap.Apply(HeapPolicy.Training)</c> first.</param>
    public static int Run(string spec, int steps)
    {
        var parts = spec.Split(':');
        var (size, optimizer) = (parts[0], parts[1]);
        long batch = long.Parse(parts[2], CultureInfo.InvariantCulture), seq = long.Parse(parts[3], CultureInfo.InvariantCulture);
        if (parts.Length > 4 && parts[4] == "training" && !NativeHeap.Apply(HeapPolicy.Training))
            Console.Error.WriteLine("NativeHeap policies are not supported here (not glibc); measuring the default heap.");

        torch.set_num_threads(1);
        torch.manual_seed(5);
        var config = BertSizes.Named(size);
        using var model = new BertModel(config);
        model.train();
        using var adam = optimizer == "stock"
            ? torch.optim.AdamW(model.parameters(), 1e-4, weight_decay: 0.01)
            : (optim.Optimizer)new LeanAdamW(model.parameters(), lr: 1e-4, weight_decay: 0.01);

        var ids = randint(1, config.VocabSize, [batch, seq]);
        var mask = ones(batch, seq, ScalarType.Int64);
        mask[0, TensorIndex.Slice(seq / 2)] = tensor(0L);

        var (times, forwards, backwards, updates) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        double peakAfterFirst = 0;
        for (int step = 0; step < steps + 1; step++) // step 0 allocates the optimizer state: not timed
        {
            var clock = Stopwatch.StartNew();
            double forward, backward;
            using (var scope = NewDisposeScope())
            {
                adam.zero_grad();
                var loss = model.call(ids, mask, null).LastHiddenState.pow(2).mean();
                forward = clock.Elapsed.TotalMilliseconds;
                loss.backward();
                backward = clock.Elapsed.TotalMilliseconds;
                adam.step();
            }
            if (step > 0)
            {
                double total = clock.Elapsed.TotalMilliseconds;
                times.Add(total);
                forwards.Add(forward);
                backwards.Add(backward - forward);
                updates.Add(total - backward);
            }
            if (step == 1) peakAfterFirst = PeakMemory.PeakMegabytes();
        }

        double peak = PeakMemory.PeakMegabytes();
        double growth = steps > 1 ? (peak - peakAfterFirst) / (steps - 1) : 0;
        long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {times.Min():F1} {Statistics.Median(times):F1} {peak:F0} {PeakMemory.CurrentMegabytes():F0} {trainable} {growth:F1} {Statistics.Median(forwards):F1} {Statistics.Median(backwards):F1} {Statistics.Median(updates):F1}"));
        return 0;
    }
}
