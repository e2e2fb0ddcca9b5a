using LRCMT.Kernels;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// A frozen linear projection y = x·Wᵀ + b with named low-rank adapters beside it:
/// y = x·Wᵀ + b + s·B·A·dropout(x), A [r, in], B [out, r], s = α/r (or α/√r with rsLoRA).
/// Adapters are stored as PEFT stores them, <c>lora_A.&lt;adapter&gt;.weight</c> and <c>lora_B.&lt;adapter&gt;.weight</c>
/// (DoRA adds <c>lora_magnitude_vector.&lt;adapter&gt;.weight</c>). One adapter is active at a time; all can be
/// disabled; the active one can be merged into W and unmerged again.
/// </summary>
/// <remarks>Derived classes say where the frozen weight and bias live (<see cref="LoRALinear"/> owns them).</remarks>
public abstract class LoRALayer : nn.Module<Tensor, Tensor>
{
    private readonly NamedModules<Linear> lora_A = new();
    private readonly NamedModules<Linear> lora_B = new();
    private readonly NamedModules<DoraMagnitude> lora_magnitude_vector = new();

    // Plain bookkeeping, not tensors or modules, so TorchSharp does not register it.
    private readonly List<string> _adapterOrder = [];
    private readonly Dictionary<string, AdapterSettings> _settings = [];
    private readonly Dictionary<string, AdapterRecord> _records = [];
    private string? _active;
    private string? _merged;
    private (PerSampleAdapters Plan, int BatchDimension)? _perSample;

    /// <summary>Creates the layer's adapter containers; derived constructors end with <c>RegisterComponents()</c>.</summary>
    protected LoRALayer(string name, long inFeatures, long outFeatures) : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    /// <summary>Width of the input (columns of W).</summary>
    public long InFeatures { get; }

    /// <summary>Width of the output (rows of W).</summary>
    public long OutFeatures { get; }

    /// <summary>Names of the adapters on this layer, in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => _adapterOrder;

    /// <summary>The adapter used by forward and merge, or null when the layer has none.</summary>
    public string? ActiveAdapter => _active;

    /// <summary>False after <see cref="DisableAdapters"/>: the layer then computes the base projection only.</summary>
    public bool AdaptersEnabled { get; private set; } = true;

    /// <summary>The adapter currently folded into the weight, or null.</summary>
    public string? MergedAdapter => _merged;

    /// <summary>
    /// The frozen weight [out, in]. It may be a fresh view of a larger tensor: read it inside a dispose scope and
    /// never dispose it yourself; in-place changes must reach the stored weight.
    /// </summary>
    protected abstract Tensor BaseWeight { get; }

    /// <summary>The frozen bias [out], or null; same rules as <see cref="BaseWeight"/>.</summary>
    protected abstract Tensor? BaseBias { get; }

    /// <summary>Rank of a named adapter.</summary>
    public int RankOf(string adapterName) => SettingsOf(adapterName).Rank;

    /// <summary>Scaling factor s of a named adapter.</summary>
    public double ScalingOf(string adapterName) => SettingsOf(adapterName).Scaling;

    /// <summary>
    /// Adds an adapter named <paramref name="adapterName"/> with <paramref name="config"/>'s rank, alpha, dropout,
    /// rsLoRA, DoRA and initialisation (target settings are ignored here). The first adapter becomes active.
    /// </summary>
    /// <exception cref="AdapterException">The name is already used on this layer.</exception>
    /// <exception cref="InvalidConfigurationException">The name is empty or contains '.', the rank is below 1 or above min(in, out), or another setting is invalid.</exception>
    public void AddAdapter(string adapterName, LoRAConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        SettingRules.ThrowIf("LoRA adapter", SettingRules.PathSegment(nameof(adapterName), adapterName));
        if (_settings.ContainsKey(adapterName))
            throw new AdapterException(null, $"the layer already has an adapter named '{adapterName}'; it was injected twice.");
        ValidateRank(adapterName, config);

        var (a, b) = CreateMatrices(config);
        double scaling = config.ScalingFor(config.Rank, config.Alpha);
        if (config.InitChangesBaseWeight) MovePrincipalPart(config, a, b, scaling);
        lora_A.Add(adapterName, a);
        lora_B.Add(adapterName, b);

        ILoRAVariant variant = StandardLoRA.Instance;
        if (config.UseDora)
        {
            var magnitude = new DoraMagnitude(InitialMagnitude(a, b, scaling));
            lora_magnitude_vector.Add(adapterName, magnitude);
            variant = magnitude;
        }

        _settings[adapterName] = new AdapterSettings(config.Rank, config.Alpha, scaling, config.Dropout, config.UseRsLora, config.UseDora, variant);
        _adapterOrder.Add(adapterName);
        _active ??= adapterName;
        _records[adapterName] = AdapterRecord.ByHand(config);
        OnAdaptersChanged();
    }

    /// <summary>Makes <paramref name="adapterName"/> the adapter used by forward and merge.</summary>
    /// <exception cref="AdapterException">The name is unknown, or another adapter is merged.</exception>
    public void SetActiveAdapter(string adapterName)
    {
        SettingsOf(adapterName);
        if (_merged is not null && _merged != adapterName)
            throw new AdapterException(null, $"adapter '{_merged}' is merged into the weight; call Unmerge() before switching to '{adapterName}'.");
        _active = adapterName;
        OnAdaptersChanged();
    }

    /// <summary>Turns every adapter off (unmerging first if needed), so the layer computes the base projection.</summary>
    public void DisableAdapters()
    {
        Unmerge();
        AdaptersEnabled = false;
        OnAdaptersChanged();
    }

    /// <summary>Turns adapters back on after <see cref="DisableAdapters"/>.</summary>
    public void EnableAdapters()
    {
        AdaptersEnabled = true;
        OnAdaptersChanged();
    }

    /// <summary>Folds the active adapter into the frozen weight (W ← W + s·B·A, or DoRA's rescaled form).</summary>
    /// <exception cref="AdapterException">There is no adapter, adapters are disabled, or one is already merged.</exception>
    public void Merge()
    {
        if (_merged is not null) throw new AdapterException(null, $"adapter '{_merged}' is already merged; call Unmerge() first.");
        if (_perSample is not null) throw new AdapterException(null, "adapters per sample are in use (AdaptersPerSample); merge after that scope ends.");
        if (!AdaptersEnabled) throw new AdapterException(null, "adapters are disabled; call EnableAdapters() before merging.");
        var name = _active ?? throw new AdapterException(null, "the layer has no adapter to merge.");
        BeforeWeightChange();

        using (NewDisposeScope())
        using (no_grad())
            _settings[name].Variant.Merge(BaseWeight, DeltaWeightOf(name));
        _merged = name;
        OnAdaptersChanged();
    }

    /// <summary>Restores the frozen weight after <see cref="Merge"/>; does nothing when nothing is merged.</summary>
    public void Unmerge()
    {
        if (_merged is not { } name) return;
        BeforeWeightChange();
        using (NewDisposeScope())
        using (no_grad())
            _settings[name].Variant.Unmerge(BaseWeight, DeltaWeightOf(name));
        _merged = null;
        OnAdaptersChanged();
    }

    /// <summary>Removes a named adapter (unmerging it first); the next adapter, if any, becomes active when it was the active one.</summary>
    /// <exception cref="AdapterException">The layer has no adapter of that name.</exception>
    internal void DeleteAdapter(string adapterName)
    {
        var settings = SettingsOf(adapterName);
        if (_merged == adapterName) Unmerge();
        lora_A.Remove(adapterName).Dispose();
        lora_B.Remove(adapterName).Dispose();
        if (settings.UseDora) lora_magnitude_vector.Remove(adapterName).Dispose();
        _settings.Remove(adapterName);
        _adapterOrder.Remove(adapterName);
        if (_active == adapterName) _active = _adapterOrder.Count > 0 ? _adapterOrder[0] : null;
        _records.Remove(adapterName);
        OnAdaptersChanged();
    }

    /// <summary>
    /// Called after every change of which adapter computes what (add, activate, enable, disable, merge, unmerge), so a
    /// layer that hands its effective weight to another module can rebuild it. The default does nothing.
    /// </summary>
    private protected virtual void OnAdaptersChanged() { }

    /// <summary>
    /// The frozen projection x·Wᵀ + b. Layers that store W in another form (int8) override it so that no float copy of W
    /// is kept for backward.
    /// </summary>
    private protected virtual Tensor BaseProjection(Tensor input) => CpuProjection.Linear(input, BaseWeight, BaseBias);

    /// <summary>Called before the frozen weight is changed in place (merge, unmerge). The default does nothing.</summary>
    private protected virtual void BeforeWeightChange() { }

    /// <summary>Elements of frozen base tensors held as buffers rather than parameters (counted by <see cref="ParameterReport"/>).</summary>
    internal virtual long FrozenBufferElements => 0;

    /// <summary>
    /// The device and type <see cref="BaseWeight"/> reads in, without reading it: a layer whose weight is made on every
    /// read (a dequantised int8 weight) overrides this, so adding adapters allocates no weight-sized temporary.
    /// </summary>
    private protected virtual (Device Device, ScalarType Type) BaseWeightPlacement
    {
        get
        {
            using var scope = NewDisposeScope();
            var reference = BaseWeight;
            return (reference.device, reference.dtype);
        }
    }

    /// <summary>
    /// The settings of the adapter that forward uses for every sample now, or null when the layer computes the base
    /// projection only (or adapters per sample, <see cref="PerSample"/>, on top of it).
    /// </summary>
    internal (string Name, AdapterSettings Settings)? EffectiveAdapter
        => AdaptersEnabled && _merged is null && _perSample is null && _active is { } name ? (name, _settings[name]) : null;

    /// <summary>The per-sample adapters of an open <see cref="AdapterControl.AdaptersPerSample"/> scope and the dimension of this layer's input that indexes the samples.</summary>
    internal (PerSampleAdapters Plan, int BatchDimension)? PerSample => _perSample;

    /// <summary>Starts computing each sample with its own adapter (PEFT's <c>adapter_names</c>); see <see cref="AddPerSample"/>.</summary>
    internal void BeginPerSample(PerSampleAdapters plan, int batchDimension)
    {
        _perSample = (plan, batchDimension);
        OnPerSampleChanged();
        OnAdaptersChanged();
    }

    /// <summary>Ends <see cref="BeginPerSample"/>: forward uses the active adapter again.</summary>
    internal void EndPerSample()
    {
        if (_perSample is null) return;
        _perSample = null;
        OnPerSampleChanged();
        OnAdaptersChanged();
    }

    /// <summary>Called when per-sample adapters start or end (a layer adapted in place hooks its module then). The default does nothing.</summary>
    private protected virtual void OnPerSampleChanged() { }

    /// <summary>
    /// PEFT's mixed-batch forward on top of the base output: for every adapter of the plan that this layer carries,
    /// the samples that use it go through the adapter (s·B·A·x, from <paramref name="adapterOutput"/>) and the result is
    /// added to their rows of <paramref name="output"/>; samples of <c>"__base__"</c>, or of an adapter this layer lacks,
    /// keep the base output.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The input's batch dimension does not have one entry per adapter name.</exception>
    internal Tensor AddPerSample(Tensor input, Tensor output, Func<string, Tensor, Tensor> adapterOutput)
    {
        var (plan, dim) = _perSample ?? throw new InvalidOperationException("no per-sample adapters are set.");
        if (input.dim() <= dim || input.shape[dim] != plan.Count)
            throw new ShapeMismatchException($"input of {GetType().Name} with adapters per sample",
                $"{plan.Count} samples (one per adapter name) along dimension {dim}", input.shape);
        foreach (var (name, indices) in plan.Groups)
        {
            if (!_settings.ContainsKey(name)) continue; // "__base__", or an adapter this layer lacks: the base output
            var index = plan.IndexOn(name, input.device);
            var delta = adapterOutput(name, input.index_select(dim, index));
            output = output.index_add(dim, index, delta.to(output.dtype), One);
        }
        return output;
    }

    /// <summary>s·B·A·x of a named plain-LoRA adapter, in the adapter's dtype (no dropout: per-sample adapters are for inference).</summary>
    internal Tensor StandardAdapterOutput(string adapterName, Tensor input)
    {
        var a = lora_A.Get(adapterName);
        var x = input.dtype == a.weight.dtype ? input : input.to(a.weight.dtype);
        using Scalar scaling = _settings[adapterName].Scaling;
        return lora_B.Get(adapterName).call(a.call(x)).mul(scaling);
    }

    /// <summary>
    /// After a hot-swap copied another adapter's tensors into this adapter's (zero-padded to its rank): the slot keeps
    /// its rank and modules, and computes with the swapped-in adapter's scaling, written as the alpha that gives it at
    /// the slot's rank.
    /// </summary>
    internal void TakeSwappedScaling(string adapterName, double alpha, double scaling)
    {
        _settings[adapterName] = SettingsOf(adapterName) with { Alpha = alpha, Scaling = scaling };
        OnAdaptersChanged();
    }

    /// <summary>A [r, in], B [out, r] and, for DoRA, m [out] of a named adapter (the registered tensors).</summary>
    internal (Parameter A, Parameter B, Parameter? Magnitude) AdapterMatrices(string adapterName)
        => (lora_A.Get(adapterName).weight, lora_B.Get(adapterName).weight,
            lora_magnitude_vector.TryGet(adapterName, out var m) ? m.Magnitude : null);

    /// <summary>The weight change s·B·A [out, in] of a named adapter (plain LoRA part; DoRA also rescales rows), detached.</summary>
    public Tensor DeltaWeight(string adapterName)
    {
        SettingsOf(adapterName);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return DeltaWeightOf(adapterName).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() == 0 || input.shape[^1] != InFeatures)
            throw new ShapeMismatchException($"input of {GetType().Name}", $"[..., {InFeatures}]", input.shape);

        using var scope = NewDisposeScope();
        if (_perSample is not null && AdaptersEnabled)
            return AddPerSample(input, BaseProjection(input), StandardAdapterOutput).MoveToOuterDisposeScope();
        if (!AdaptersEnabled || _merged is not null || _active is not { } name)
            return BaseProjection(input).MoveToOuterDisposeScope();
        var settings = _settings[name];
        bool dropping = settings.Dropout > 0 && training;
        var x = dropping ? MaskDropout.Apply(input, settings.Dropout, training) : input;
        // A half-precision base (BasePrecision) keeps float32 adapters: their input goes up, their update comes back down.
        // Plain LoRA casts the input up inside its down-projection (HalfInputProjection), so that backward keeps the half input
        // (36 MiB less live memory on a bert-base bf16 LoRA step; lora_A's own hooks do not run for a half input).
        var adapterType = lora_A.Get(name).weight.dtype;
        Tensor output, delta;
        if (settings.Variant.NeedsDeltaWeight)
        {
            if (x.dtype != adapterType) x = x.to(adapterType);
            // DoRA reuses W·x of the base path when the adapter sees the same input.
            var (weight, bias) = (BaseWeight, BaseBias);
            var projected = nn.functional.linear(input, weight);
            output = bias is null ? projected : projected.add(bias, One);
            delta = settings.Variant.Delta(x, weight, lora_A.Get(name), lora_B.Get(name), DeltaWeightOf(name), settings.Scaling, dropping ? null : projected);
        }
        else
        {
            // The base projection's output is a fresh tensor nothing keeps for backward: the update goes into it in place.
            output = BaseProjection(input);
            delta = settings.Variant.Delta(x, null, lora_A.Get(name), lora_B.Get(name), null, settings.Scaling, null);
            return output.add_(delta.to(output.dtype), One).MoveToOuterDisposeScope();
        }
        return output.add(delta.to(output.dtype), One).MoveToOuterDisposeScope();
    }

    /// <summary>The record of a named adapter: the injection's (shared by every layer it adapted) or this layer's own.</summary>
    internal AdapterRecord RecordOf(string adapterName)
    {
        SettingsOf(adapterName);
        return _records[adapterName];
    }

    /// <summary>Makes <paramref name="record"/> (an injection's) the record of a named adapter on this layer.</summary>
    internal void Adopt(string adapterName, AdapterRecord record)
    {
        SettingsOf(adapterName);
        _records[adapterName] = record;
    }

    internal AdapterSettings SettingsOf(string adapterName)
        => _settings.TryGetValue(adapterName, out var settings)
            ? settings
            : throw new AdapterException(null, $"the layer has no adapter named '{adapterName}' (it has: {string.Join(", ", _adapterOrder)}).");

    /// <summary>The trainable tensors of every adapter: A, B and, for DoRA, the magnitude.</summary>
    internal IEnumerable<Parameter> AdapterParameters()
        => lora_A.parameters().Concat(lora_B.parameters()).Concat(lora_magnitude_vector.parameters());

    /// <summary>
    /// LoRA+'s fast side of every adapter: B (which starts at zero and needs the larger step, Hayou et al. 2024) and the
    /// one-dimensional DoRA magnitudes (PEFT puts one-dimensional adapter tensors with B); the rest of
    /// <see cref="AdapterParameters"/> is the A side.
    /// </summary>
    internal IEnumerable<Parameter> LoraPlusBSide()
        => lora_B.parameters().Concat(lora_magnitude_vector.parameters());

    /// <summary>
    /// One adapter's tensors under the names PEFT uses in adapter files, relative to this layer:
    /// <c>lora_A.weight</c>, <c>lora_B.weight</c> and, for DoRA, <c>lora_magnitude_vector</c>.
    /// </summary>
    internal IEnumerable<(string FileSuffix, Parameter Tensor)> AdapterTensors(string adapterName)
    {
        var settings = SettingsOf(adapterName);
        yield return ("lora_A.weight", lora_A.Get(adapterName).weight);
        yield return ("lora_B.weight", lora_B.Get(adapterName).weight);
        if (settings.UseDora) yield return ("lora_magnitude_vector", lora_magnitude_vector.Get(adapterName).Magnitude);
    }

    private Tensor DeltaWeightOf(string name)
    {
        using Scalar scaling = _settings[name].Scaling;
        return lora_B.Get(name).weight.matmul(lora_A.Get(name).weight).mul(scaling);
    }

    private void ValidateRank(string adapterName, LoRAConfig config)
    {
        SettingRules.ThrowIfAny($"LoRA adapter '{adapterName}'", SettingRules.Collect(
            SettingRules.RankFits(nameof(config.Rank), config.Rank, InFeatures, OutFeatures),
            SettingRules.Positive(nameof(config.Alpha), config.Alpha),
            SettingRules.Rate(nameof(config.Dropout), config.Dropout)));
    }

    private (Linear A, Linear B) CreateMatrices(LoRAConfig config)
    {
        var (device, dtype) = BaseWeightPlacement;
        // Adapters on a half-precision base train in float32 (as PEFT's autocast_adapter_dtype does).
        if (dtype is ScalarType.BFloat16 or ScalarType.Float16) dtype = ScalarType.Float32;
        // nn.Linear's own initialisation is Kaiming-uniform with a = √5, which is what PEFT uses for A.
        var a = nn.Linear(InFeatures, config.Rank, hasBias: false, device: device, dtype: dtype);
        var b = nn.Linear(config.Rank, OutFeatures, hasBias: false, device: device, dtype: dtype);
        using var _ = no_grad();
        switch (config.Init)
        {
            case LoRAInit.Default:
                nn.init.zeros_(b.weight);
                break;
            case LoRAInit.Gaussian:
                nn.init.normal_(a.weight, 0, 1.0 / config.Rank);
                nn.init.zeros_(b.weight);
                break;
            case LoRAInit.BothRandom:
            case LoRAInit.PiSSA or LoRAInit.OLoRA: // filled from W0 by MovePrincipalPart
                break;
        }
        return (a, b);
    }

    /// <summary>
    /// PiSSA / OLoRA: puts the principal part of W0 into <paramref name="a"/> and <paramref name="b"/> and subtracts
    /// s·B·A from W0 in place (computed in float32, written back in W0's type), so the layer's output is unchanged.
    /// </summary>
    private void MovePrincipalPart(LoRAConfig config, Linear a, Linear b, double scaling)
    {
        try
        {
            BeforeWeightChange();
        }
        catch (AdapterException e)
        {
            a.Dispose();
            b.Dispose();
            throw new AdapterException(null, $"the {config.Init} initialisation moves part of the base weight into the adapter, which this layer cannot do: {e.Message}");
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weight = BaseWeight;
        var (principalA, principalB) = config.Init == LoRAInit.PiSSA
            ? PrincipalInit.Pissa(weight, config.Rank, scaling, config.PissaIterations)
            : PrincipalInit.OLoRA(weight, config.Rank);
        a.weight.copy_(principalA);
        b.weight.copy_(principalB);
        using Scalar s = scaling;
        weight.sub_(principalB.matmul(principalA).mul(s).to(weight.dtype));
    }

    // PEFT starts m at the row norms of W + s·B·A, so a new DoRA adapter leaves the output as plain LoRA would.
    private Tensor InitialMagnitude(Linear a, Linear b, double scaling)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using Scalar s = scaling;
        return DoraMagnitude.RowNorm(BaseWeight, b.weight.matmul(a.weight).mul(s)).MoveToOuterDisposeScope();
    }

    /// <summary>Per-adapter hyper-parameters and its variant (plain LoRA or DoRA).</summary>
    internal sealed record AdapterSettings(int Rank, double Alpha, double Scaling, double Dropout, bool UseRsLora, bool UseDora, ILoRAVariant Variant);
}
