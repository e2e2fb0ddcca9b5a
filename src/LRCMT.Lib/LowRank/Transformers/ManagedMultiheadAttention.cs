using LRCMT.Kernels;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Regularization;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// Multi-head attention written in C#, with the parameters of TorchSharp's native <c>nn.MultiheadAttention</c>
/// under the same names (<c>in_proj_weight</c> [3E, E], <c>in_proj_bias</c> [3E], <c>out_proj.weight</c>,
/// <c>out_proj.bias</c>) and the same results, sequence-first ([L, N, E]). Unlike the native module its projections
/// can carry LoRA in two layouts. PEFT's: target the attention module itself and it gets one adapter over the whole
/// packed input projection (A [r, E], B [3E, r], held here as <c>in_proj.qkv</c>) plus one on <c>out_proj</c>, with no
/// dropout on either (PEFT merges them for the forward). This library's extension: <c>out_proj</c> is an ordinary
/// child, and the q, k and v thirds of the packed input projection can each get an adapter, addressed as
/// <c>&lt;path&gt;.in_proj.q</c>, <c>.in_proj.k</c>, <c>.in_proj.v</c>. One attention module uses one layout.
/// </summary>
/// <remarks>
/// Masks follow PyTorch: a float <c>attn_mask</c> is added to the scores (as the native module does), and a boolean
/// one blocks the positions that are true. The native libtorch module instead adds a boolean mask as 0/1, which
/// blocks nothing; pass float masks (0 / −∞) where results must match the native module exactly.
/// </remarks>
internal sealed class ManagedMultiheadAttention : nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>>
{
    private static readonly string[] SliceNames = ["q", "k", "v"];

    /// <summary>Name under <c>in_proj</c> of PEFT's adapter over the whole packed input projection.</summary>
    internal const string PackedName = "qkv";

    private Parameter in_proj_weight;
    private Parameter? in_proj_bias;
    private nn.Module<Tensor, Tensor> out_proj;
    private readonly NamedModules<LoRALayer> in_proj = new();

    /// <summary>Creates the module with PyTorch's initialisation (Xavier-uniform input projection, zero biases).</summary>
    /// <param name="embedDim">Model width E.</param>
    /// <param name="numHeads">Number of heads; must divide E.</param>
    /// <param name="dropout">Dropout on the attention weights while training.</param>
    /// <param name="bias">Whether the projections have biases.</param>
    /// <exception cref="InvalidConfigurationException">E is not positive or not divisible by the number of heads.</exception>
    public ManagedMultiheadAttention(long embedDim, long numHeads, double dropout = 0.0, bool bias = true)
        : base(nameof(ManagedMultiheadAttention))
    {
        SettingRules.ThrowIfAny("multi-head attention", SettingRules.Collect(
            SettingRules.AtLeast(nameof(embedDim), embedDim, 1),
            SettingRules.AtLeast(nameof(numHeads), numHeads, 1),
            SettingRules.HeadsDivideWidth(nameof(numHeads), numHeads, nameof(embedDim), embedDim)));
        SettingRules.ThrowIf("multi-head attention", SettingRules.Rate(nameof(dropout), dropout));
        EmbedDim = embedDim;
        NumHeads = numHeads;
        Dropout = dropout;

        in_proj_weight = new Parameter(nn.init.xavier_uniform_(empty(3 * embedDim, embedDim)));
        in_proj_bias = bias ? new Parameter(zeros(3 * embedDim)) : null;
        var output = nn.Linear(embedDim, embedDim, hasBias: bias);
        if (bias) using (no_grad()) output.bias!.zero_();
        out_proj = output;
        RegisterComponents();
    }

    /// <summary>Model width E.</summary>
    public long EmbedDim { get; }

    /// <summary>Number of attention heads.</summary>
    public long NumHeads { get; internal set; }

    /// <summary>Dropout probability on the attention weights.</summary>
    public double Dropout { get; internal set; }

    /// <summary>
    /// Attends <paramref name="query"/> [L, N, E] to <paramref name="key"/>/<paramref name="value"/> [S, N, E].
    /// <paramref name="attn_mask"/> is [L, S] or [N·heads, L, S], boolean (true = blocked) or additive;
    /// <paramref name="key_padding_mask"/> is [N, S] (true = padding). Returns the output [L, N, E] and, when
    /// <paramref name="need_weights"/>, the attention weights averaged over heads [N, L, S] (otherwise an empty tensor).
    /// </summary>
    public override Tuple<Tensor, Tensor> forward(Tensor query, Tensor key, Tensor value, Tensor? key_padding_mask, bool need_weights, Tensor? attn_mask)
    {
        CheckShape("query", query);
        CheckShape("key", key);
        CheckShape("value", value);
        long targetLength = query.shape[0], batch = query.shape[1], sourceLength = key.shape[0];
        long heads = NumHeads, headDim = EmbedDim / NumHeads;
        if (key.shape[1] != batch || !value.shape.SequenceEqual(key.shape))
            throw new ShapeMismatchException("multi-head attention key/value", $"[S, {batch}, {EmbedDim}] for both", value.shape);
        if (attn_mask is not null && !(attn_mask.shape.SequenceEqual([targetLength, sourceLength]) ||
                                       attn_mask.shape.SequenceEqual([batch * heads, targetLength, sourceLength])))
            throw new ShapeMismatchException("attention mask", $"[{targetLength}, {sourceLength}] or [{batch * heads}, {targetLength}, {sourceLength}]", attn_mask.shape);
        if (key_padding_mask is not null && !key_padding_mask.shape.SequenceEqual([batch, sourceLength]))
            throw new ShapeMismatchException("key padding mask", $"[{batch}, {sourceLength}]", key_padding_mask.shape);

        using var scope = NewDisposeScope();
        using Scalar scale = 1.0 / Math.Sqrt(headDim), minusInfinity = float.NegativeInfinity;
        var q = Project(0, query).mul(scale).reshape(targetLength, batch * heads, headDim).transpose(0, 1);
        var k = Project(1, key).reshape(sourceLength, batch * heads, headDim).transpose(0, 1);
        var v = Project(2, value).reshape(sourceLength, batch * heads, headDim).transpose(0, 1);

        var scores = q.bmm(k.transpose(1, 2));
        if (attn_mask is not null)
        {
            var mask = attn_mask.dim() == 2 ? attn_mask.unsqueeze(0) : attn_mask;
            scores = mask.dtype == ScalarType.Bool ? scores.masked_fill(mask, minusInfinity) : scores.add(mask, One);
        }
        if (key_padding_mask is not null)
        {
            var padding = key_padding_mask.to_type(ScalarType.Bool).view(batch, 1, 1, sourceLength);
            scores = scores.view(batch, heads, targetLength, sourceLength).masked_fill(padding, minusInfinity)
                .view(batch * heads, targetLength, sourceLength);
        }

        var weights = MaskDropout.Apply(scores.softmax(-1), Dropout, training);
        var context = weights.bmm(v).transpose(0, 1).reshape(targetLength, batch, EmbedDim);
        var output = out_proj.call(context);
        var averaged = need_weights ? weights.view(batch, heads, targetLength, sourceLength).mean([1]) : empty(0);
        return Tuple.Create(output.MoveToOuterDisposeScope(), averaged.MoveToOuterDisposeScope());
    }

    /// <summary>Same as <see cref="forward"/>, with the native module's defaults.</summary>
    public new Tuple<Tensor, Tensor> call(Tensor query, Tensor key, Tensor value, Tensor? key_padding_mask = null, bool need_weights = true, Tensor? attn_mask = null)
        => base.call(query, key, value, key_padding_mask, need_weights, attn_mask);

    /// <summary>The slices (q, k, v) that have no LoRA layer yet.</summary>
    internal IEnumerable<string> UnadaptedInProjectionSlices()
        => in_proj.Contains(PackedName) ? [] : SliceNames.Where(s => !in_proj.Contains(s));

    /// <summary>PEFT's adapter over the whole packed input projection, or null.</summary>
    internal LoRALayer? PackedInProjection => in_proj.TryGet(PackedName, out var layer) ? layer : null;

    /// <summary>The output projection (a <see cref="LoRALinear"/> once adapted).</summary>
    internal nn.Module<Tensor, Tensor> OutProjection => out_proj;

    /// <summary>
    /// PEFT's layout: adds <paramref name="adapterName"/> over the whole packed input projection and on <c>out_proj</c>
    /// (replacing the Linear by a <see cref="LoRALinear"/> with the same tensors). Returns the packed layer.
    /// </summary>
    /// <exception cref="AdapterException">The per-slice layout is already in use, DoRA is asked for, or out_proj is not linear.</exception>
    internal LoRALayer AdaptWhole(string adapterName, LoRAConfig config)
    {
        if (in_proj.Names.Any(n => n != PackedName))
            throw new AdapterException("in_proj", "this attention module already has per-slice (in_proj.q/k/v) adapters; one module uses one layout.");
        if (config.UseDora)
            throw new AdapterException(null, "DoRA is not supported on a whole multi-head attention module (PEFT refuses it too).");
        var output = out_proj switch
        {
            LoRALinear adapted => adapted,
            Linear linear => new LoRALinear(linear),
            var other => throw new AdapterException("out_proj", $"it is a {other.GetType().Name}, not a linear projection."),
        };
        if (!in_proj.TryGet(PackedName, out var packed))
        {
            packed = new InProjectionSlice(EmbedDim, 3 * EmbedDim, () => in_proj_weight, () => in_proj_bias);
            packed.train(training);
            in_proj.Add(PackedName, packed);
        }
        if (!ReferenceEquals(output, out_proj)) output.train(out_proj.training); // a new module starts in training mode
        var noDropout = config with { Dropout = 0 };
        packed.AddAdapter(adapterName, noDropout);
        if (!ReferenceEquals(output, out_proj))
        {
            ModuleReplacer.Replace(this, "out_proj", out_proj, output, "out_proj");
        }
        output.AddAdapter(adapterName, noDropout);
        return packed;
    }

    /// <summary>The LoRA layers on the packed input projection (slices or PEFT's whole-module layer).</summary>
    internal IEnumerable<LoRALayer> InProjectionLayers => in_proj.Names.Select(in_proj.Get).ToList();

    /// <summary>Removes every LoRA layer of the packed input projection (after merging, for merge-and-unload).</summary>
    internal void RemoveInProjectionLayers()
    {
        foreach (var name in in_proj.Names.ToList()) in_proj.Remove(name).Dispose();
    }

    /// <summary>Removes the input-projection layers that carry no adapter any more.</summary>
    internal void RemoveEmptyInProjectionLayers()
    {
        foreach (var name in in_proj.Names.ToList())
            if (in_proj.Get(name).AdapterNames.Count == 0) in_proj.Remove(name).Dispose();
    }

    /// <summary>Puts a LoRA layer on one slice of the packed input projection and adds the adapter to it.</summary>
    internal LoRALayer AdaptInProjection(string slice, string adapterName, LoRAConfig config)
    {
        int index = Array.IndexOf(SliceNames, slice);
        if (index < 0) throw new AdapterException($"in_proj.{slice}", "the packed input projection has slices 'q', 'k' and 'v' only.");
        if (in_proj.Contains(PackedName))
            throw new AdapterException($"in_proj.{slice}", "this attention module already has PEFT's whole-module adapter; one module uses one layout.");
        if (!in_proj.TryGet(slice, out var layer))
        {
            long offset = index * EmbedDim;
            layer = new InProjectionSlice(EmbedDim, EmbedDim,
                () => in_proj_weight.narrow(0, offset, EmbedDim),
                () => in_proj_bias?.narrow(0, offset, EmbedDim));
            layer.train(training);
            in_proj.Add(slice, layer);
        }
        layer.AddAdapter(adapterName, config);
        return layer;
    }

    private Tensor Project(int slice, Tensor input)
    {
        if (in_proj.TryGet(SliceNames[slice], out var adapted)) return adapted.call(input);
        long offset = slice * EmbedDim;
        var projected = CpuProjection.Linear(input, in_proj_weight.narrow(0, offset, EmbedDim), in_proj_bias?.narrow(0, offset, EmbedDim));
        if (PackedInProjection is { AdaptersEnabled: true, PerSample: not null } perSample)
            return perSample.AddPerSample(input, projected, (adapter, x) => SliceOutput(perSample, adapter, offset, x));
        if (PackedInProjection is not { AdaptersEnabled: true, MergedAdapter: null, ActiveAdapter: { } name } packed) return projected;
        return projected.add(SliceOutput(packed, name, offset, input), One);
    }

    // PEFT's layout: the slice's rows of s·B·A applied to x; no dropout (PEFT merges the adapter for the forward).
    private Tensor SliceOutput(LoRALayer packed, string adapterName, long offset, Tensor input)
    {
        var (a, b, _) = packed.AdapterMatrices(adapterName);
        using Scalar scaling = packed.ScalingOf(adapterName);
        return nn.functional.linear(nn.functional.linear(input, a), b.narrow(0, offset, EmbedDim)).mul(scaling);
    }

    private void CheckShape(string what, Tensor tensor)
    {
        if (tensor.dim() != 3 || tensor.shape[2] != EmbedDim)
            throw new ShapeMismatchException($"multi-head attention {what}", $"[seq, batch, {EmbedDim}]", tensor.shape);
    }
}
