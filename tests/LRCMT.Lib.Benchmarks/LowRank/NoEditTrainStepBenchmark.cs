using System.Globalization;
using LRCMT.Benchmarks.Harness;
using LRCMT.LowRank;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Benchmarks.LowRank;

/// <summary>
/// One LoRA train step of a bert-base-sized stack whose q/v projections take the replacement path (fields typed
/// nn.Module) vs the substitution path (fields of the sealed Linear type called with .forward(), as most ports are).
/// Also prints how much one step raises the peak resident memory (Linux: VmHWM after resetting it); run each case in
/// its own process (LRCMT_NOEDIT_ONLY) for that number, since freed memory of one case is reused by the next.
/// </summary>
public sealed class NoEditTrainStepBenchmark : IBenchmarkGroup
{
    private const long Width = 768, Heads = 12, FeedForward = 3072, Seq = 64, Batch = 8;
    private const int Layers = 12;

    public string Name => "lora-noedit-step";

    public string Description =>
        $"AdamW step, LoRA r=8 on query+value of a {Layers}x{Width} encoder (h={Heads}, ff={FeedForward}) on [{Batch}, {Seq}, {Width}]: replacement vs substitution";

    public IEnumerable<BenchmarkCase> CreateCases()
    {
        torch.manual_seed(1);
        var input = randn(Batch, Seq, Width);
        var config = new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] };
        var cases = new List<BenchmarkCase>();
        // LRCMT_NOEDIT_ONLY=replacement|substitution builds one case only, so that its peak memory is measured in a fresh process.
        var only = Environment.GetEnvironmentVariable("LRCMT_NOEDIT_ONLY");
        foreach (bool sealedFields in new[] { false, true })
        {
            if (only is not null && only != (sealedFields ? "substitution" : "replacement")) continue;
            torch.manual_seed(2);
            var model = new Stack(sealedFields);
            var report = LowRankInjector.Inject(model, config);
            string path = report.Adapted[0].Mechanism.ToString().ToLowerInvariant();
            var step = Step(model, input);
            double peak = PeakMegabytes(step);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {path}: {report.Adapted.Count} layers, {report.Parameters.TrainableParameters:N0} trainable; one step raises peak RSS by {peak:F0} MB over the resident models"));
            cases.Add(new BenchmarkCase($"{path} ({(sealedFields ? "private readonly Linear query" : "nn.Module<Tensor, Tensor> query")})", step, model));
        }
        return cases;
    }

    private static Action Step(Stack model, Tensor input)
    {
        model.train();
        var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 1e-4);
        return () =>
        {
            optimizer.zero_grad();
            var loss = model.call(input).pow(2).mean();
            loss.backward();
            optimizer.step();
        };
    }

    // Resets the process's peak RSS (writing 5 to clear_refs), runs once, returns VmHWM minus the RSS before the step
    // (so models that are merely resident do not count); NaN where /proc is not available.
    private static double PeakMegabytes(Action step)
    {
        try
        {
            GC.Collect();
            File.WriteAllText("/proc/self/clear_refs", "5");
            double before = StatusMegabytes("VmRSS:");
            using (NewDisposeScope()) step();
            return StatusMegabytes("VmHWM:") - before;
        }
        catch (IOException)
        {
            return double.NaN;
        }
        catch (UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    private static double StatusMegabytes(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private sealed class Stack : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<nn.Module<Tensor, Tensor>> layer;

        public Stack(bool sealedFields) : base(nameof(Stack))
        {
            layer = new ModuleList<nn.Module<Tensor, Tensor>>(Enumerable.Range(0, Layers)
                .Select(_ => sealedFields ? (nn.Module<Tensor, Tensor>)new SealedLayer() : new ReplaceableLayer()).ToArray());
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            foreach (var l in layer) x = l.call(x);
            return x.MoveToOuterDisposeScope();
        }
    }

    /// <summary>A BERT layer as most TorchSharp ports write it: sealed Linear fields, .forward() calls.</summary>
    private sealed class SealedLayer : nn.Module<Tensor, Tensor>
    {
        private readonly Linear query, key, value, output, intermediate, dense;
        private readonly LayerNorm norm1, norm2;

        public SealedLayer() : base(nameof(SealedLayer))
        {
            (query, key, value, output) = (nn.Linear(Width, Width), nn.Linear(Width, Width), nn.Linear(Width, Width), nn.Linear(Width, Width));
            (intermediate, dense) = (nn.Linear(Width, FeedForward), nn.Linear(FeedForward, Width));
            (norm1, norm2) = (nn.LayerNorm(Width), nn.LayerNorm(Width));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Layer(x, query.forward, key.forward, value.forward, output.forward, intermediate.forward, dense.forward, norm1.forward, norm2.forward);
    }

    /// <summary>The same layer with replaceable fields.</summary>
    private sealed class ReplaceableLayer : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> query, key, value, output, intermediate, dense;
        private readonly LayerNorm norm1, norm2;

        public ReplaceableLayer() : base(nameof(ReplaceableLayer))
        {
            (query, key, value, output) = (nn.Linear(Width, Width), nn.Linear(Width, Width), nn.Linear(Width, Width), nn.Linear(Width, Width));
            (intermediate, dense) = (nn.Linear(Width, FeedForward), nn.Linear(FeedForward, Width));
            (norm1, norm2) = (nn.LayerNorm(Width), nn.LayerNorm(Width));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => Layer(x, query.call, key.call, value.call, output.call, intermediate.call, dense.call, norm1.call, norm2.call);
    }

    private static Tensor Layer(Tensor x, Func<Tensor, Tensor> q, Func<Tensor, Tensor> k, Func<Tensor, Tensor> v, Func<Tensor, Tensor> o,
        Func<Tensor, Tensor> up, Func<Tensor, Tensor> down, Func<Tensor, Tensor> norm1, Func<Tensor, Tensor> norm2)
    {
        using var scope = NewDisposeScope();
        long headDim = Width / Heads;
        Tensor Split(Tensor t) => t.view(Batch, Seq, Heads, headDim).transpose(1, 2);
        var attention = Split(q(x)).matmul(Split(k(x)).transpose(-1, -2)).div(Math.Sqrt(headDim)).softmax(-1);
        var context = attention.matmul(Split(v(x))).transpose(1, 2).reshape(Batch, Seq, Width);
        var h = norm1(x.add(o(context)));
        return norm2(h.add(down(nn.functional.gelu(up(h))))).MoveToOuterDisposeScope();
    }
}
