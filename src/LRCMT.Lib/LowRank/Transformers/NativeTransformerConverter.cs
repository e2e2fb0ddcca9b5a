using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Transformers;

/// <summary>
/// Converts TorchSharp's built-in <c>nn.MultiheadAttention</c>, <c>nn.TransformerEncoderLayer</c> and
/// <c>nn.TransformerEncoder</c> — whose parameters live in native code and have no child modules LoRA could replace —
/// into managed equivalents with the same parameter names and the same outputs. The weights are copied.
/// </summary>
internal static class NativeTransformerConverter
{
    /// <summary>Converts a native multi-head attention module (same embedding width for query, key and value).</summary>
    /// <exception cref="AdapterException">The module uses add_bias_kv or separate key/value widths, or its head count cannot be inferred.</exception>
    public static ManagedMultiheadAttention ToManaged(MultiheadAttention native, NativeTransformerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(native);
        var source = ParametersOf(native);
        long embedDim = RequireWeight(source, "in_proj_weight", "multi-head attention").shape[1];
        var managed = new ManagedMultiheadAttention(embedDim, options?.NumHeads ?? 1, options?.Dropout ?? 0.0, bias: source.ContainsKey("in_proj_bias"));
        CopyParameters(source, managed, "multi-head attention");
        if (options?.NumHeads is null)
        {
            Infer(native, managed, HeadCandidates(embedDim).Select(h => (Action)(() => managed.NumHeads = h)),
                x => native.call(x, x, x, null, true, null).Item1, x => managed.call(x, x, x, null, true, null).Item1, embedDim, "multi-head attention");
        }
        managed.train(native.training);
        return managed;
    }

    /// <summary>Converts a native encoder layer (post-norm, sequence-first, as the native layer is).</summary>
    /// <exception cref="AdapterException">The layer's hyper-parameters cannot be inferred; pass <paramref name="options"/>.</exception>
    public static ManagedTransformerEncoderLayer ToManaged(TransformerEncoderLayer native, NativeTransformerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(native);
        var source = ParametersOf(native);
        var managed = CreateLayer(source, "", options);
        CopyParameters(source, managed, "Transformer encoder layer");
        InferLayerSettings(native, managed, [managed], options, native.call, managed.call);
        managed.train(native.training);
        return managed;
    }

    /// <summary>Converts a native encoder (a stack of identical layers).</summary>
    /// <exception cref="AdapterException">The layers' hyper-parameters cannot be inferred; pass <paramref name="options"/>.</exception>
    public static ManagedTransformerEncoder ToManaged(TransformerEncoder native, NativeTransformerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(native);
        var source = ParametersOf(native);
        int count = source.Keys.Select(k => k.Split('.')).Where(p => p.Length > 2 && p[0] == "layers")
            .Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max() + 1;
        if (count == 0) throw new AdapterException(null, "the native Transformer encoder has no 'layers.N.*' parameters.");
        var managed = new ManagedTransformerEncoder(Enumerable.Range(0, count).Select(i => CreateLayer(source, $"layers.{i}.", options)));
        CopyParameters(source, managed, "Transformer encoder");
        InferLayerSettings(native, managed, managed.Layers, options, native.call, managed.call);
        managed.train(native.training);
        return managed;
    }

    /// <summary>
    /// Creates a managed twin of every native transformer module of <paramref name="model"/> (the root included) that
    /// holds a projection the matcher targets, and checks that each can take its place. Nothing in the model changes:
    /// <see cref="PlannedConversion.Install"/> does that. On any error the twins made so far are disposed.
    /// </summary>
    /// <exception cref="AdapterException">A native module sits in a field of its sealed type, or its settings cannot be inferred.</exception>
    internal static List<PlannedConversion> PlanTargeted(nn.Module model, TargetMatcher matcher, NativeTransformerOptions? options)
    {
        var modules = model.named_modules().Prepend(("", model)).ToList();
        var byPath = modules.ToDictionary(m => m.Item1, m => m.Item2);
        var planned = new List<PlannedConversion>();
        try
        {
            foreach (var (path, module) in modules)
            {
                if (!IsNative(module) || !ProjectionNames(module, path.Length == 0 ? "" : path + ".").Any(matcher.IsTarget)) continue;
                ReplacementPlan? slots = null;
                if (path.Length > 0)
                {
                    int dot = path.LastIndexOf('.');
                    var parent = dot < 0 ? model : byPath[path[..dot]];
                    slots = ModuleReplacer.Plan(parent, dot < 0 ? path : path[(dot + 1)..], module, ManagedTypeOf(module), path);
                    if (slots.Blocker is not null) throw SealedFieldError(path, module, parent, slots.BlockedSlot ?? slots.Blocker.Message);
                }
                nn.Module managed = module switch
                {
                    MultiheadAttention a => ToManaged(a, options),
                    TransformerEncoderLayer l => ToManaged(l, options),
                    TransformerEncoder e => ToManaged(e, options),
                    _ => throw new InvalidOperationException(),
                };
                planned.Add(new PlannedConversion(path, module, managed, slots,
                    $"{(path.Length == 0 ? "(root)" : path)} ({module.GetType().Name} -> {managed.GetType().Name}, {Describe(managed)})"));
            }
            return planned;
        }
        catch
        {
            foreach (var p in planned) p.Managed.Dispose();
            throw;
        }
    }

    /// <summary>The paths the projections of the native modules in <paramref name="model"/> will have once converted.</summary>
    internal static IEnumerable<string> ConvertibleProjections(nn.Module model)
        => model.named_modules().Prepend(("", model)).Where(m => IsNative(m.Item2))
            .SelectMany(m => ProjectionNames(m.Item2, m.Item1.Length == 0 ? "" : m.Item1 + "."));

    private static Type ManagedTypeOf(nn.Module native) => native switch
    {
        MultiheadAttention => typeof(ManagedMultiheadAttention),
        TransformerEncoderLayer => typeof(ManagedTransformerEncoderLayer),
        _ => typeof(ManagedTransformerEncoder),
    };

    private static AdapterException SealedFieldError(string path, nn.Module native, nn.Module parent, string blockedSlot)
        => new(path,
            $"it is TorchSharp's native {native.GetType().Name}, which keeps its weights in C++ and computes with them there " +
            "(and TransformerEncoder.call(src, mask) runs no hooks), so LoRA can only be added by putting a managed twin in its place; " +
            $"but {blockedSlot}, which cannot hold the managed " +
            $"{ManagedTypeOf(native).Name}. Options: declare {parent.GetType().Name}'s field as nn.Module<Tensor, Tensor> / nn.IModule<Tensor, Tensor, Tensor> " +
            $"(or nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>> for attention); or inject into the {native.GetType().Name} itself " +
            "and call the adapted copy (InjectionReport.Model) in its place; or convert it with NativeTransformerConverter.ToManaged when you build the model. " +
            "Nothing was changed.");

    private static string Describe(nn.Module managed) => managed switch
    {
        ManagedMultiheadAttention a => FormattableString.Invariant($"{a.NumHeads} heads, dropout {a.Dropout}"),
        ManagedTransformerEncoderLayer l => FormattableString.Invariant($"{l.SelfAttention.NumHeads} heads, {l.Activation}, dropout {l.Dropout}"),
        ManagedTransformerEncoder e => FormattableString.Invariant($"{e.Layers.Count} layers, {e.Layers[0].SelfAttention.NumHeads} heads, {e.Layers[0].Activation}, dropout {e.Layers[0].Dropout}"),
        _ => "",
    };

    private static bool IsNative(nn.Module module) => module is MultiheadAttention or TransformerEncoderLayer or TransformerEncoder;

    /// <summary>The projection paths a native module will have once converted (including the in_proj slices).</summary>
    private static IEnumerable<string> ProjectionNames(nn.Module native, string prefix)
    {
        foreach (var (name, parameter) in native.named_parameters())
        {
            if (name.EndsWith("in_proj_weight", StringComparison.Ordinal))
            {
                var owner = name[..^"in_proj_weight".Length];
                if ((prefix + owner).TrimEnd('.') is { Length: > 0 } attention) yield return attention; // PEFT's whole-module target
                foreach (var slice in new[] { "q", "k", "v" }) yield return $"{prefix}{owner}in_proj.{slice}";
            }
            else if (name.EndsWith(".weight", StringComparison.Ordinal) && parameter.dim() == 2)
            {
                yield return prefix + name[..^".weight".Length];
            }
        }
    }

    private static ManagedTransformerEncoderLayer CreateLayer(Dictionary<string, Parameter> source, string prefix, NativeTransformerOptions? options)
    {
        var linear1 = RequireWeight(source, prefix + "linear1.weight", "Transformer encoder layer");
        return new ManagedTransformerEncoderLayer(linear1.shape[1], options?.NumHeads ?? 1, linear1.shape[0],
            options?.Dropout ?? 0.1, options?.Activation ?? nn.Activations.ReLU);
    }

    private static void InferLayerSettings(nn.Module native, nn.Module managed, IReadOnlyList<ManagedTransformerEncoderLayer> layers, NativeTransformerOptions? options,
        Func<Tensor, Tensor> runNative, Func<Tensor, Tensor> runManaged)
    {
        if (options?.NumHeads is not null && options.Activation is not null) return;
        long width = layers[0].DModel;
        var heads = options?.NumHeads is { } h ? [h] : HeadCandidates(width).ToArray();
        var activations = options?.Activation is { } a ? [a] : new[] { nn.Activations.ReLU, nn.Activations.GELU };
        var candidates = heads.SelectMany(head => activations.Select(act => (Action)(() =>
        {
            foreach (var layer in layers)
            {
                layer.SelfAttention.NumHeads = head;
                layer.Activation = act;
            }
        })));
        Infer(native, managed, candidates, runNative, runManaged, width, "Transformer encoder layer");
    }

    /// <summary>
    /// Tries each candidate setting until the managed module reproduces the native one on a random probe (both in
    /// eval mode, so dropout is off). Throws when none does.
    /// </summary>
    private static void Infer(nn.Module native, nn.Module managed, IEnumerable<Action> candidates,
        Func<Tensor, Tensor> runNative, Func<Tensor, Tensor> runManaged, long width, string what)
    {
        bool nativeTraining = native.training, managedTraining = managed.training;
        native.eval();
        managed.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var device = native.parameters().First().device;
            var dtype = native.parameters().First().dtype;
            var generator = new Generator(20260417, device);
            var probe = randn([5, 2, width], dtype: dtype, device: device, generator: generator);
            var expected = runNative(probe);
            foreach (var apply in candidates)
            {
                apply();
                if (runManaged(probe).allclose(expected, rtol: 1e-4, atol: 1e-5)) return;
            }
            throw new AdapterException(null,
                $"could not infer the head count/activation of a native {what} of width {width}; pass NativeTransformerOptions with NumHeads and Activation.");
        }
        finally
        {
            native.train(nativeTraining);
            managed.train(managedTraining);
        }
    }

    private static IEnumerable<long> HeadCandidates(long width)
    {
        for (long h = 1; h <= width; h++)
            if (width % h == 0) yield return h;
    }

    private static Dictionary<string, Parameter> ParametersOf(nn.Module native)
        => native.named_parameters().ToDictionary(p => p.name, p => p.parameter);

    private static Parameter RequireWeight(Dictionary<string, Parameter> source, string name, string what)
        => source.TryGetValue(name, out var p) ? p
            : throw new AdapterException(null, $"the native {what} has no '{name}' parameter (it has: {string.Join(", ", source.Keys)}); only the standard layout is supported.");

    /// <summary>Copies every parameter by name after checking both sides have exactly the same names and shapes.</summary>
    private static void CopyParameters(Dictionary<string, Parameter> source, nn.Module managed, string what)
    {
        var target = ParametersOf(managed);
        var missing = target.Keys.Except(source.Keys).ToList();
        var unexpected = source.Keys.Except(target.Keys).ToList();
        var shapes = target.Where(t => source.TryGetValue(t.Key, out var s) && !s.shape.SequenceEqual(t.Value.shape))
            .Select(t => $"{t.Key}: expected {ShapeMismatchException.Format(t.Value.shape)} but got {ShapeMismatchException.Format(source[t.Key].shape)}").ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || shapes.Count > 0)
            throw new CheckpointMismatchException($"native {what}", missing, unexpected, shapes);

        var first = source.Values.First();
        managed.to(first.device, first.dtype);
        target = ParametersOf(managed); // moving may have replaced the parameter objects
        using var noGrad = no_grad();
        foreach (var (name, parameter) in target)
        {
            parameter.copy_(source[name]);
            parameter.requires_grad = source[name].requires_grad;
        }
    }
}

/// <summary>A native module and the managed twin that will replace it (not installed yet).</summary>
internal sealed record PlannedConversion(string Path, nn.Module Native, nn.Module Managed, ReplacementPlan? Slots, string Description)
{
    /// <summary>Puts the twin where the native module was and disposes the native module; the root is left to its owner.</summary>
    public void Install()
    {
        if (Slots is null) return;
        foreach (var assign in Slots.Slots) assign(Managed);
        Native.Dispose(); // its weights were copied
    }
}
