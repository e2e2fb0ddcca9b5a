using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank.Transformers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// PEFT's model-level adapter verbs in .NET casing — <c>set_adapter</c>, <c>disable_adapter()</c> (a scope),
/// <c>delete_adapter</c>, <c>merge_and_unload</c> — for any model with LoRA layers. They act on every LoRA layer found
/// by walking the model's modules, so they work whichever way the layers were put in.
/// </summary>
public static class AdapterControl
{
    /// <summary>The adapter name that selects the base model for a sample in <see cref="AdaptersPerSample"/> (PEFT's <c>"__base__"</c>).</summary>
    public const string BaseAdapterName = "__base__";

    /// <summary>Names of the adapters anywhere in <paramref name="model"/>, in first-seen order.</summary>
    public static IReadOnlyList<string> AdapterNames(this nn.Module model)
        => Layers(model).SelectMany(l => l.Layer.AdapterNames).Distinct().ToList();

    /// <summary>
    /// The configuration adapter <paramref name="adapterName"/> was created with (PEFT's
    /// <c>model.peft_config[name]</c>): what <see cref="LowRankInjector.Inject"/> was given, with
    /// <see cref="LoRAConfig.AllLinear"/> resolved to the module names it selected; for an adapter loaded with
    /// <see cref="PeftAdapterFile.Load"/>, the file's. It is the record <see cref="PeftAdapterFile.Save"/> writes.
    /// For layers given the adapter by hand (<see cref="LoRALayer.AddAdapter"/>) it describes them: their paths as
    /// targets, the first layer's settings, rank/alpha patterns for the others. A copy: changing it changes nothing.
    /// </summary>
    /// <exception cref="AdapterException">No layer carries the adapter, or it was injected twice into parts of the model.</exception>
    /// <exception cref="InvalidConfigurationException">Layers given the adapter by hand disagree on rsLoRA, DoRA or dropout.</exception>
    public static LoRAConfig GetAdapterConfig(this nn.Module model, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        return AdapterRecord.Of(model, adapterName)
            ?? throw new AdapterException(null, $"no layer carries adapter '{adapterName}' (the model has: {Names(model)}).");
    }

    /// <summary>Every adapter of the model with its configuration (PEFT's <c>model.peft_config</c>), in first-seen order; see <see cref="GetAdapterConfig"/>.</summary>
    /// <inheritdoc cref="GetAdapterConfig" path="/exception"/>
    public static IReadOnlyDictionary<string, LoRAConfig> AdapterConfigs(this nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return AdapterRecord.All(model);
    }

    /// <summary>
    /// Makes <paramref name="adapterName"/> the active adapter of the whole model (PEFT <c>set_adapter</c>): layers that
    /// carry it use it, layers that do not compute their base projection only.
    /// </summary>
    /// <exception cref="AdapterException">No layer carries the adapter, or another adapter is merged into a layer.</exception>
    public static void SetAdapter(this nn.Module model, string adapterName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        var layers = Layers(model);
        if (!layers.Any(l => l.Layer.AdapterNames.Contains(adapterName)))
            throw new AdapterException(null, $"no layer carries adapter '{adapterName}' (the model has: {Names(model)}).");
        var merged = layers.FirstOrDefault(l => l.Layer.MergedAdapter is { } m && m != adapterName);
        if (merged.Layer is not null)
            throw new AdapterException(merged.Path, $"adapter '{merged.Layer.MergedAdapter}' is merged into it; unmerge before switching to '{adapterName}'.");
        foreach (var (_, layer) in layers)
        {
            if (layer.AdapterNames.Contains(adapterName))
            {
                layer.SetActiveAdapter(adapterName);
                layer.EnableAdapters();
            }
            else layer.DisableAdapters();
        }
    }

    /// <summary>
    /// Turns every adapter off until the returned scope is disposed (PEFT's <c>with model.disable_adapter():</c>):
    /// <c>using (model.DisableAdapters()) { … base model … }</c>. Merged layers are unmerged; disposing restores which
    /// layers were enabled (they stay unmerged).
    /// </summary>
    public static IDisposable DisableAdapters(this nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = Layers(model).Select(l => (l.Layer, Enabled: l.Layer.AdaptersEnabled)).ToList();
        foreach (var (layer, _) in layers) layer.DisableAdapters();
        return new Restore(() =>
        {
            foreach (var (layer, enabled) in layers)
                if (enabled) layer.EnableAdapters();
        });
    }

    /// <summary>
    /// Runs each sample of a batch with its own adapter until the returned scope is disposed (PEFT's
    /// <c>model(x, adapter_names=[…])</c>): <c>using (model.AdaptersPerSample(["a", "__base__", "b"])) y = model.call(x);</c>.
    /// Every LoRA layer computes the base output for the whole batch and adds, for the samples of each adapter it
    /// carries, that adapter's s·B·A·x; samples named <see cref="BaseAdapterName"/>, or whose adapter a layer lacks, keep
    /// the base output there — so each sample's output is the one it gets alone with that adapter active (nothing is
    /// merged). For inference, with LoRA and rsLoRA adapters (PEFT's limits: no DoRA, nothing merged, eval mode). On
    /// every path: replaced layers, layers adapted in place whose module is invoked with <c>.call</c> (a forward hook adds
    /// the adapters), and attention in-projections (slices and PEFT's whole-module layout). While the scope is open, the
    /// input of each LoRA layer must have one entry per name along <paramref name="batchDimension"/>; inside this
    /// library's attention and encoder layers (sequence-first inside) the samples are on dimension 1 whatever you pass.
    /// </summary>
    /// <param name="model">The model carrying the adapters.</param>
    /// <param name="adapterNames">The adapter of each sample, in batch order; <see cref="BaseAdapterName"/> for none.</param>
    /// <param name="batchDimension">The dimension of the adapted layers' inputs that indexes the samples (0 for [batch, seq, features]).</param>
    /// <exception cref="AdapterException">An adapter is unknown or uses DoRA, an adapter is merged, the model is in training mode, a scope is already open, or a layer adapted in place cannot see its input (invoked with <c>.forward()</c>).</exception>
    /// <exception cref="ShapeMismatchException">(From the forward.) A layer's input does not have one sample per name along the batch dimension.</exception>
    public static IDisposable AdaptersPerSample(this nn.Module model, IReadOnlyList<string> adapterNames, int batchDimension = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapterNames);
        SettingRules.ThrowIfAny("adapters per sample", SettingRules.Collect(
            SettingRules.AtLeast($"{nameof(adapterNames)}.Count", adapterNames.Count, 1),
            SettingRules.AtLeast(nameof(batchDimension), batchDimension, 0),
            adapterNames.Any(string.IsNullOrEmpty) ? new SettingProblem(nameof(adapterNames), "contains an empty name") : null));
        return PerSampleAdapters.Begin(model, adapterNames, batchDimension);
    }

    /// <summary>Removes adapter <paramref name="adapterName"/> from every layer (PEFT <c>delete_adapter</c>); returns how many layers had it.</summary>
    /// <exception cref="AdapterException">No layer carries the adapter.</exception>
    public static int DeleteAdapter(this nn.Module model, string adapterName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        var layers = Layers(model).Where(l => l.Layer.AdapterNames.Contains(adapterName)).ToList();
        if (layers.Count == 0) throw new AdapterException(null, $"no layer carries adapter '{adapterName}'.");
        foreach (var (_, layer) in layers) layer.DeleteAdapter(adapterName);
        foreach (var attention in model.modules().Prepend(model).OfType<ManagedMultiheadAttention>()) attention.RemoveEmptyInProjectionLayers();
        return layers.Count;
    }

    /// <summary>
    /// Merges the active adapter of every enabled layer into its weight and puts plain modules back (PEFT
    /// <c>merge_and_unload</c>): each <see cref="LoRALinear"/> becomes an <c>nn.Linear</c> holding the merged weight and
    /// the bias, attention modules lose their in-projection adapters, so the state dict has exactly the base model's
    /// keys. Returns the model as the type you called it on (when the model itself is a LoRA layer, the plain
    /// <c>Linear</c> that replaces it: call it on the layer typed as <c>nn.Module</c> or <c>nn.Module&lt;Tensor, Tensor&gt;</c>).
    /// </summary>
    /// <remarks>A layer adapted in place (a sealed <c>Linear</c> field, a registered linear-like type) gets its own module back, with the merged weight.</remarks>
    /// <exception cref="AdapterException">A layer of an unsupported kind carries the adapter — use <see cref="MergedModel.Export"/>; or the model is itself a LoRA layer and <typeparamref name="TModel"/> cannot hold the Linear that replaces it.</exception>
    public static TModel MergeAndUnload<TModel>(this TModel model) where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is LoRALayer && !typeof(TModel).IsAssignableFrom(typeof(Linear)))
            throw new AdapterException(null, $"the model is itself a LoRA layer; it becomes a plain Linear, which a {typeof(TModel).Name} cannot hold. " +
                "Call MergeAndUnload on it typed as nn.Module or nn.Module<Tensor, Tensor>. Nothing was changed.");
        var layers = Layers(model);
        var unsupported = layers.FirstOrDefault(l => l.Layer is not (LoRALinear or InProjectionSlice or Substitution.SubstitutedLinear)
                                                     || (l.Layer is Substitution.SubstitutedLinear && l.Path.Length == 0));
        if (unsupported.Layer is not null)
            throw new AdapterException(unsupported.Path, $"it is a {unsupported.Layer.GetType().Name}; merge-and-unload does not support it. Use MergedModel.Export for a merged checkpoint.");

        foreach (var (_, layer) in layers)
            if (layer.AdaptersEnabled && layer.MergedAdapter is null && layer.ActiveAdapter is not null) layer.Merge();
        foreach (var attention in model.modules().Prepend(model).OfType<ManagedMultiheadAttention>()) attention.RemoveInProjectionLayers();

        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        nn.Module result = model;
        foreach (var (path, layer) in layers.Where(l => l.Layer is LoRALinear or Substitution.SubstitutedLinear))
        {
            // A layer adapted in place hands back the very module its parent calls, its weight now merged.
            var plain = layer is Substitution.SubstitutedLinear substituted ? substituted.ReleaseModule() : ToLinear((LoRALinear)layer);
            if (path.Length == 0)
            {
                result = plain;
                continue;
            }
            int dot = path.LastIndexOf('.');
            var parent = dot < 0 ? model : modules[path[..dot]];
            ModuleReplacer.Replace(parent, path[(dot + 1)..], layer, plain, path);
        }
        return (TModel)result;
    }

    /// <summary>
    /// Adds adapter <paramref name="adapterName"/>, a weighted combination of existing adapters (PEFT
    /// <c>add_weighted_adapter</c>), to every LoRA layer that carries at least one of them; see
    /// <see cref="AdapterCombinationMethod"/> for the methods (weights may be negative). The new adapter is not made
    /// active (<see cref="SetAdapter"/> does that). Its record, returned, is PEFT's: the first adapter's configuration
    /// with r = lora_alpha = the combination's rank (every source's scaling is folded into A and B, so its own scaling is
    /// 1), no rsLoRA, the union of the sources' targets and no rank or alpha patterns — an ordinary LoRA configuration,
    /// saved and loaded like any other. Methods that drop entries at random are repeatable with
    /// <see cref="AdapterCombination.Seed"/>. Everything is checked before the model changes.
    /// </summary>
    /// <param name="model">The model carrying the adapters.</param>
    /// <param name="adapters">Names of the adapters to combine.</param>
    /// <param name="weights">One weight per adapter.</param>
    /// <param name="adapterName">Name of the new adapter (not yet used in the model).</param>
    /// <param name="combination">Method and its settings; null for PEFT's defaults (<see cref="AdapterCombinationMethod.Svd"/>).</param>
    /// <returns>The new adapter's configuration (a copy of its record).</returns>
    /// <exception cref="AdapterException">An adapter is unknown or uses DoRA, the new name is taken, the method needs equal ranks and they differ, or the adapters state their targets in different forms.</exception>
    /// <exception cref="InvalidConfigurationException">The weights do not match the adapters, a setting is invalid (e.g. no density for a pruning method), or the result's rank does not fit a layer.</exception>
    public static LoRAConfig AddWeightedAdapter(this nn.Module model, IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName,
        AdapterCombination? combination = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(weights);
        return WeightedAdapter.Add(model, adapters, weights, adapterName, combination ?? new AdapterCombination());
    }

    private static string Names(nn.Module model) => model.AdapterNames() is { Count: > 0 } names ? string.Join(", ", names) : "none";

    private static Linear ToLinear(LoRALinear layer)
    {
        var plain = nn.Linear(layer.InFeatures, layer.OutFeatures, hasBias: layer.Bias is not null,
            device: layer.Weight.device, dtype: layer.Weight.dtype);
        plain.weight = layer.Weight;
        if (layer.Bias is not null) plain.bias = layer.Bias;
        return plain;
    }

    /// <summary>Every LoRA layer with its path ("" for the model itself), outermost first.</summary>
    private static List<(string Path, LoRALayer Layer)> Layers(nn.Module model)
    {
        var layers = new List<(string, LoRALayer)>();
        if (model is LoRALayer root) layers.Add(("", root));
        layers.AddRange(model.named_modules().Where(m => m.module is LoRALayer).Select(m => (m.name, (LoRALayer)m.module)));
        return layers;
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private Action? _restore = restore;

        public void Dispose()
        {
            _restore?.Invoke();
            _restore = null;
        }
    }
}
