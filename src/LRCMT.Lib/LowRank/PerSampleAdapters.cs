using TorchSharp;
using LRCMT.Errors;
using LRCMT.LowRank.Substitution;
using LRCMT.LowRank.Transformers;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// Which adapter each sample of a batch uses (PEFT's <c>adapter_names</c>): the names in sample order, grouped by
/// adapter in order of first appearance, with each group's sample indices as a tensor per device (built once, freed
/// with the plan).
/// </summary>
internal sealed class PerSampleAdapters : IDisposable
{
    private readonly Dictionary<(string Name, DeviceType Type, int Index), Tensor> _indexTensors = [];

    public PerSampleAdapters(IReadOnlyList<string> names)
    {
        Names = [.. names];
        Groups = names.Select((name, i) => (name, i)).GroupBy(p => p.name, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Select(p => (long)p.i).ToArray())).ToList();
    }

    /// <summary>The adapter of each sample.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of samples a batch must have.</summary>
    public int Count => Names.Count;

    /// <summary>Each adapter named, with the samples that use it.</summary>
    public IReadOnlyList<(string Name, long[] Indices)> Groups { get; }

    /// <summary>The sample indices of <paramref name="name"/> as an int64 tensor on <paramref name="device"/> (kept by the plan).</summary>
    public Tensor IndexOn(string name, Device device)
    {
        lock (_indexTensors)
        {
            var key = (name, device.type, device.index);
            if (!_indexTensors.TryGetValue(key, out var index))
            {
                index = tensor(Groups.First(g => g.Name == name).Indices, device: device).DetachFromDisposeScope();
                _indexTensors[key] = index;
            }
            return index;
        }
    }

    /// <summary>
    /// Checks the request against the model as PEFT does (known adapter names, inference mode, nothing merged, no
    /// DoRA) and that every layer adapted in place that carries a requested adapter can see its own input (its module
    /// is invoked with <c>.call</c>), then puts every LoRA layer in per-sample mode until the result is disposed.
    /// </summary>
    public static IDisposable Begin(nn.Module model, IReadOnlyList<string> names, int batchDimension)
    {
        var modules = model.named_modules().Prepend(("", model)).ToDictionary(m => m.Item1, m => m.Item2);
        var layers = modules.Where(m => m.Value is LoRALayer).Select(m => (Path: m.Key, Layer: (LoRALayer)m.Value)).ToList();
        var requested = names.Where(n => n != AdapterControl.BaseAdapterName).Distinct(StringComparer.Ordinal).ToList();
        var unknown = requested.Where(n => !layers.Any(l => l.Layer.AdapterNames.Contains(n))).ToList();
        if (unknown.Count > 0)
            throw new AdapterException(null, $"no layer carries adapter(s) {string.Join(", ", unknown.Select(n => $"'{n}'"))} (the model has: {string.Join(", ", model.AdapterNames())}; \"{AdapterControl.BaseAdapterName}\" selects the base model).");
        if (model.training)
            throw new AdapterException(null, "adapters per sample are for inference, as PEFT's adapter_names: call model.eval() first.");
        if (layers.FirstOrDefault(l => l.Layer.MergedAdapter is not null) is { Layer: not null } merged)
            throw new AdapterException(merged.Path, $"adapter '{merged.Layer.MergedAdapter}' is merged into it; unmerge before using adapters per sample (PEFT refuses this too).");
        if (layers.FirstOrDefault(l => l.Layer.PerSample is not null) is { Layer: not null } open)
            throw new AdapterException(open.Path, "adapters per sample are already in use; dispose that scope first.");
        foreach (var (path, layer) in layers)
            if (requested.FirstOrDefault(n => layer.AdapterNames.Contains(n) && layer.SettingsOf(n).UseDora) is { } dora)
                throw new AdapterException(path, $"adapter '{dora}' uses DoRA; adapters per sample support LoRA and rsLoRA only (PEFT refuses DoRA too).");
        var blind = layers.Where(l => l.Layer is SubstitutedLinear s && requested.Any(s.AdapterNames.Contains)
                                      && (s.Wrapped is not nn.Module<Tensor, Tensor> || HookCoverage.Of(modules, l.Path, s.Wrapped).RefreshedBy != l.Path))
            .Select(l => l.Path).ToList();
        if (blind.Count > 0)
            throw new AdapterException(null, $"layer(s) {string.Join(", ", blind.Select(p => $"'{p}'"))} are adapted in place (a sealed Linear field or a registered linear-like type) " +
                "and invoked with .forward() (or are not an nn.Module<Tensor, Tensor>), so nothing of this library sees their input, and one weight cannot differ between samples. " +
                "Declare the field as nn.Module<Tensor, Tensor> (the layer is then replaced), invoke it with .call(), or run each adapter's samples as their own batch with SetAdapter.");

        var plan = new PerSampleAdapters(names);
        foreach (var (path, layer) in layers) layer.BeginPerSample(plan, BatchDimensionOf(path, modules, batchDimension));
        return new Scope(plan, layers.Select(l => l.Layer).ToList());
    }

    // This library's attention and encoder layers compute sequence-first ([seq, batch, …]) inside, whatever their input layout.
    private static int BatchDimensionOf(string path, Dictionary<string, nn.Module> modules, int outside)
    {
        for (var parent = Parent(path); parent is not null; parent = Parent(parent))
            if (modules[parent] is ManagedMultiheadAttention or ManagedTransformerEncoderLayer) return 1;
        return outside;
    }

    private static string? Parent(string path) => path.Length == 0 ? null : path.LastIndexOf('.') is var dot and >= 0 ? path[..dot] : "";

    private sealed class Scope(PerSampleAdapters plan, List<LoRALayer> layers) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var layer in layers) layer.EndPerSample();
            plan.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_indexTensors)
        {
            foreach (var index in _indexTensors.Values) index.Dispose();
            _indexTensors.Clear();
        }
    }
}
