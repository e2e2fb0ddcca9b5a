using System.Reflection;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// LoRA for a linear-like module that cannot be swapped out of its parent's field (a sealed <c>Linear</c> field, a
/// registered custom type). The module object stays where its parent calls it; this layer takes its place in the
/// registered-children table only, re-registering the module's own tensors under their names (so state-dict keys
/// and values are unchanged and <c>.to()</c>, <c>train()</c>, <c>Dispose</c> reach them) beside the adapters. Before
/// each forward, <see cref="Refresh"/> puts W_eff = W0 + s·B·A — an autograd expression of the adapters — into the
/// field the module's forward reads (for <c>Linear</c>, its private <c>_weight</c>).
/// </summary>
internal sealed class SubstitutedLinear : LoRALayer
{
    private static readonly FieldInfo ParamsTable = typeof(nn.Module).GetField("_internal_params", BindingFlags.Instance | BindingFlags.NonPublic)!;
    private static readonly FieldInfo BuffersTable = typeof(nn.Module).GetField("_internal_buffers", BindingFlags.Instance | BindingFlags.NonPublic)!;

    // Plain objects (not modules or tensors), so TorchSharp registers none of them.
    private readonly Host _host;

    private SubstitutedLinear(Host host, long inFeatures, long outFeatures) : base(nameof(SubstitutedLinear), inFeatures, outFeatures)
    {
        _host = host;
        var module = host.Module;
        foreach (var (name, parameter) in module.named_parameters(recurse: false)) register_parameter(name, parameter);
        var persistent = module.named_buffers(recurse: false, include_nonpersistent: false).Select(b => b.name).ToHashSet();
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: true)) register_buffer(name, buffer, persistent.Contains(name));
        foreach (var (name, child) in module.named_children()) register_module(name, child);
        var weight = StoredWeight;
        _deviceType = weight.device.type;
        _deviceIndex = weight.device.type == DeviceType.CUDA ? weight.device.index : -1;
        RegisterComponents();
    }

    /// <summary>Dotted path of the module in the model (for messages).</summary>
    public string Path => _host.Path;

    /// <summary>The module whose forward the model calls.</summary>
    public nn.Module Wrapped => _host.Module;

    /// <summary>Why <paramref name="module"/> cannot be adapted this way, or null when it can.</summary>
    public static string? Obstacle(nn.Module module, LinearLikeSpec spec)
    {
        var weight = Registered(module, spec.WeightName);
        if (weight is null) return $"it registers no parameter or buffer named '{spec.WeightName}'.";
        if (weight.dim() != 2) return $"its '{spec.WeightName}' is {ShapeMismatchException.Format(weight.shape)}, not a 2-D projection weight.";
        if (spec.BiasName is { } biasName && Registered(module, biasName) is { } bias)
        {
            long outFeatures = spec.WeightIsInputByOutput ? weight.shape[1] : weight.shape[0];
            if (bias.dim() != 1 || bias.shape[0] != outFeatures)
                return $"its '{biasName}' is {ShapeMismatchException.Format(bias.shape)}, expected [{outFeatures}].";
        }
        if (FieldsHolding(module, weight).Count == 0)
            return $"{module.GetType().Name} keeps '{spec.WeightName}' in no field of its own, so the adapted weight cannot be put where its forward reads it.";
        return null;
    }

    /// <summary>Creates the layer for <paramref name="module"/> (checked with <see cref="Obstacle"/>); nothing changes until it is installed.</summary>
    public static SubstitutedLinear Create(nn.Module module, LinearLikeSpec spec, string path)
    {
        var weight = Registered(module, spec.WeightName)!;
        var fields = new Dictionary<string, List<FieldInfo>>();
        foreach (var (name, tensor) in RegisteredTensors(module)) fields[name] = FieldsHolding(module, tensor);
        var host = new Host(module, spec, path, fields);
        return spec.WeightIsInputByOutput
            ? new SubstitutedLinear(host, weight.shape[0], weight.shape[1])
            : new SubstitutedLinear(host, weight.shape[1], weight.shape[0]);
    }

    /// <inheritdoc/>
    protected override Tensor BaseWeight => _host.Spec.WeightIsInputByOutput ? StoredWeight.t() : StoredWeight;

    /// <inheritdoc/>
    protected override Tensor? BaseBias
    {
        get
        {
            if (_host.Spec.BiasName is not { } name) return null;
            return _internal_params.TryGetValue(name, out var p) ? p : _internal_buffers.TryGetValue(name, out var b) ? b.Item1 : null;
        }
    }

    internal override long FrozenBufferElements => _internal_buffers.TryGetValue(_host.Spec.WeightName, out var b) ? b.Item1.numel() : 0;

    private Tensor StoredWeight
        => _internal_params.TryGetValue(_host.Spec.WeightName, out var p) ? p : _internal_buffers[_host.Spec.WeightName].Item1;

    /// <summary>
    /// Puts the current effective weight where the module's forward reads it (W0 itself when adapters are disabled
    /// or merged). Throws first if a backward found that an earlier forward used stale weights.
    /// </summary>
    /// <exception cref="StaleAdapterWeightsException">A backward since the last refresh used stale adapter weights.</exception>
    /// <exception cref="NonFiniteAdapterWeightsException">A backward since the last refresh found non-finite adapter weights.</exception>
    public void Refresh(bool throwIfStale = true)
    {
        if (throwIfStale) ThrowIfStale();
        if (_host.Released) return;
        _host.Dirty = false;
        SyncModuleTensors();
        Tensor next;
        if (EffectiveAdapter is not { } adapter)
        {
            next = StoredWeight;
        }
        else
        {
            var (a, b, m) = AdapterMatrices(adapter.Name);
            Rebuilds++;
            var build = new WeightBuild(this, StoredWeight, _host.Spec.WeightIsInputByOutput, adapter.Settings.Scaling, a, b, m);
            // Built with its autograd node even under no_grad, so a later forward in grad mode still reaches A and B
            // (and a stale use is still caught) instead of silently training nothing.
            Tensor built;
            using (a.requires_grad || b.requires_grad || m?.requires_grad == true ? enable_grad() : null)
                built = EffectiveWeightFunction.Apply(build).DetachFromDisposeScope();
            next = NeedsParameter() ? new Parameter(built, built.requires_grad) : built;
        }
        foreach (var field in _host.Fields[_host.Spec.WeightName]) field.SetValue(_host.Module, next);
        if (_host.Current is { } previous && !ReferenceEquals(previous, next)) previous.Dispose();
        _host.Current = ReferenceEquals(next, StoredWeight) ? null : next;
    }

    /// <summary>
    /// For merge-and-unload: points the module's fields back at its own (possibly merged) W0 and hands back the module,
    /// which the caller puts into the registered slot in place of this layer (this layer must not be used afterwards).
    /// </summary>
    internal nn.Module ReleaseModule()
    {
        _host.Released = true;
        SyncModuleTensors();
        var weight = StoredWeight;
        foreach (var field in _host.Fields[_host.Spec.WeightName]) field.SetValue(_host.Module, weight);
        _host.Current?.Dispose();
        _host.Current = null;
        return _host.Module;
    }

    /// <summary>Throws (once) the error a backward recorded.</summary>
    public void ThrowIfStale()
    {
        switch (TakeProblem())
        {
            case { NonFinite: true }: throw new NonFiniteAdapterWeightsException([Path]);
            case { } problem: throw new StaleAdapterWeightsException([Path], problem.Message);
        }
    }

    /// <summary>The problem a backward recorded since the last call, or null; clears it.</summary>
    public RecordedProblem? TakeProblem()
    {
        lock (_host)
        {
            var problem = _host.Problem;
            _host.Problem = null;
            return problem;
        }
    }

    /// <summary>
    /// Whether a backward has run through the current effective weight since it was built: an optimiser step may have
    /// changed A and B since, so hooks that rebuild only what may be out of date rebuild this layer.
    /// </summary>
    public bool MayBeStale => _host.Dirty;

    /// <summary>How many times W_eff was built (nested hooks must not rebuild a layer more than once per step).</summary>
    internal int Rebuilds { get; private set; }

    /// <summary>Whether merge-and-unload handed the module back (the layer must not touch it any more).</summary>
    public bool Released => _host.Released;

    /// <summary>Called from backward, for every backward through a weight this layer built (native callback: must not throw).</summary>
    internal void RecordBackward() => _host.Dirty = true;

    /// <summary>Called from backward (native callback: must not throw).</summary>
    internal void RecordStaleBackward()
    {
        lock (_host)
            _host.Problem ??= new RecordedProblem(false,
                "a forward pass used adapter weights from before the adapters last changed (e.g. after an optimiser step), " +
                "so its gradient was refused and libtorch reported an invalid gradient. No module on the path to this layer that runs TorchSharp's hooks " +
                "was invoked with .call() before it (the model was probably invoked with .forward()): call LowRankInjector.RefreshAdapters(model) " +
                "before every such forward, invoke the model with .call(...), or train through InjectionReport.AsTrainable.");
    }

    /// <summary>Called from backward when A, B or m hold NaN or infinity (native callback: must not throw); takes precedence over staleness.</summary>
    internal void RecordNonFinite()
    {
        lock (_host)
            if (_host.Problem is not { NonFinite: true }) _host.Problem = new RecordedProblem(true, "the adapter weights are not finite.");
    }

    internal void RecordBackwardFailure(Exception error)
    {
        lock (_host) _host.Problem ??= new RecordedProblem(false, $"computing the adapter gradient failed ({error.GetType().Name}: {error.Message}); the backward was refused.");
    }

    private protected override void OnAdaptersChanged() => Refresh();

    /// <summary>
    /// With adapters per sample, W_eff cannot differ between samples, so the module reads W0 and a forward hook on it
    /// adds each sample's adapter output (the module must be invoked with <c>.call</c>, which the caller checked).
    /// </summary>
    private protected override void OnPerSampleChanged()
    {
        _host.RemovePerSampleHook?.Invoke();
        _host.RemovePerSampleHook = null;
        if (PerSample is null || _host.Module is not nn.Module<Tensor, Tensor> module) return;
        var remover = module.register_forward_hook((_, input, output) => AdaptersEnabled ? AddPerSample(input, output, StandardAdapterOutput) : output);
        _host.RemovePerSampleHook = remover.remove;
    }

    private protected override void BeforeWeightChange() => ThrowIfStale();

    /// <inheritdoc/>
    public override void train(bool on = true)
    {
        base.train(on);
        _host.Module.train(on);
        Refresh(throwIfStale: false); // switching to eval after the last optimiser step hands the module the trained weights
    }

    /// <inheritdoc/>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Refresh(throwIfStale: false);
    }

    /// <inheritdoc/>
    // Kept: the adapted weight and the wrapped module sit in a plain Host object, registered nowhere, so the base misses them.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Current?.Dispose();
            _host.Current = null;
        }
        base.Dispose(disposing);
        if (disposing) _host.Module.Dispose(); // its tensors were disposed above; this releases the module itself
    }

    /// <summary>After <c>.to()</c> replaced this layer's tensors, hands the new ones to the module (its tables and fields).</summary>
    private void SyncModuleTensors()
    {
        var module = _host.Module;
        var parameters = (OrderedDict<string, Parameter>)ParamsTable.GetValue(module)!;
        var buffers = (OrderedDict<string, (Tensor, bool)>)BuffersTable.GetValue(module)!;
        foreach (var (name, parameter) in _internal_params)
        {
            if (!parameters.TryGetValue(name, out var old) || ReferenceEquals(old, parameter)) continue;
            parameters[name] = parameter;
            if (name != _host.Spec.WeightName) foreach (var field in _host.Fields[name]) field.SetValue(module, parameter);
        }
        foreach (var (name, (buffer, persistent)) in _internal_buffers)
        {
            if (!buffers.TryGetValue(name, out var old) || ReferenceEquals(old.Item1, buffer)) continue;
            buffers[name] = (buffer, persistent);
            if (name != _host.Spec.WeightName) foreach (var field in _host.Fields[name]) field.SetValue(module, buffer);
        }
    }

    private bool NeedsParameter()
        => StoredWeight is Parameter || _host.Fields[_host.Spec.WeightName].Any(f => !f.FieldType.IsAssignableFrom(typeof(Tensor)));

    private static Tensor? Registered(nn.Module module, string name)
        => RegisteredTensors(module).Where(t => t.Name == name).Select(t => t.Tensor).FirstOrDefault();

    private static IEnumerable<(string Name, Tensor Tensor)> RegisteredTensors(nn.Module module)
        => module.named_parameters(recurse: false).Select(p => (p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers(recurse: false, include_nonpersistent: true));

    /// <summary>The instance fields of <paramref name="module"/> (any visibility, any base type) that hold <paramref name="tensor"/>.</summary>
    private static List<FieldInfo> FieldsHolding(nn.Module module, Tensor tensor)
    {
        var found = new List<FieldInfo>();
        for (var type = module.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (typeof(Tensor).IsAssignableFrom(field.FieldType) && ReferenceEquals(field.GetValue(module), tensor))
                    found.Add(field);
        return found;
    }

    private sealed class Host(nn.Module module, LinearLikeSpec spec, string path, Dictionary<string, List<FieldInfo>> fields)
    {
        public nn.Module Module { get; } = module;
        public LinearLikeSpec Spec { get; } = spec;
        public string Path { get; } = path;
        public Dictionary<string, List<FieldInfo>> Fields { get; } = fields;
        public Tensor? Current { get; set; }
        public RecordedProblem? Problem { get; set; }
        public volatile bool Dirty;
        public bool Released;
        public Action? RemovePerSampleHook;
    }
}

/// <summary>What a backward found wrong with a substituted layer: non-finite adapter weights, or a stale forward (with its explanation).</summary>
internal sealed record RecordedProblem(bool NonFinite, string Message);
