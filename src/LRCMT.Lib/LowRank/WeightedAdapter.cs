using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// PEFT's <c>add_weighted_adapter</c>: a new adapter on every LoRA layer that carries one of the given adapters, its A
/// and B computed from theirs (<see cref="AdapterCombinationMethod"/>). Its record is the first adapter's
/// configuration with PEFT's changes: rank = the combination's rank, alpha = rank and no rsLoRA (so its scaling is 1;
/// every source's scaling is folded into A and B), targets the union of the sources', no rank or alpha patterns, and a
/// plain initialisation. Everything is checked before the first layer changes.
/// </summary>
internal static class WeightedAdapter
{
    /// <summary>One source adapter on one layer: its matrices, scaling and weight.</summary>
    internal sealed record Source(Tensor A, Tensor B, double Scaling, double Weight);

    public static LoRAConfig Add(nn.Module model, IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName,
        AdapterCombination combination, TaskArithmetic.MaskDraw? draw = null)
    {
        combination.Validate();
        SettingRules.ThrowIfAny("weighted adapter", SettingRules.Collect(
            SettingRules.PathSegment(nameof(adapterName), adapterName),
            SettingRules.AtLeast($"{nameof(adapters)}.Count", adapters.Count, 1),
            adapters.Count == weights.Count ? null : new SettingProblem(nameof(weights), $"must give one weight per adapter ({adapters.Count}), got {weights.Count}"),
            adapters.Distinct(StringComparer.Ordinal).Count() == adapters.Count ? null : new SettingProblem(nameof(adapters), "names an adapter twice"),
            weights.Select((w, i) => SettingRules.Finite($"{nameof(weights)}[{i}]", w)).FirstOrDefault(p => p is not null)));

        var layers = model.named_modules().Prepend(("", model)).Where(m => m.Item2 is LoRALayer).Select(m => (Path: m.Item1, Layer: (LoRALayer)m.Item2)).ToList();
        if (layers.Any(l => l.Layer.AdapterNames.Contains(adapterName)))
            throw new AdapterException(null, $"the model already carries an adapter named '{adapterName}'; choose another name for the combination.");
        var records = adapters.Select(name => AdapterRecord.Of(model, name)
            ?? throw new AdapterException(null, $"no layer carries adapter '{name}' (the model has: {string.Join(", ", model.AdapterNames())}).")).ToList();
        var dora = adapters.Where((_, i) => records[i].UseDora).ToList();
        if (dora.Count > 0)
            throw new AdapterException(null, $"adapter(s) {string.Join(", ", dora.Select(d => $"'{d}'"))} use DoRA; a weighted combination of DoRA adapters is not defined (its magnitude vector has no counterpart in A and B).");

        // PEFT: one adapter is always combined linearly.
        var method = adapters.Count == 1 ? AdapterCombinationMethod.Linear : combination.Method;
        var ranks = records.Select(r => r.RankPattern.Count == 0 ? r.Rank : Math.Max(r.Rank, r.RankPattern.Values.Max())).ToList();
        int newRank = method switch
        {
            AdapterCombinationMethod.Cat => ranks.Sum(),
            _ when combination.UsesSvd && method != AdapterCombinationMethod.Linear => combination.SvdRank ?? ranks.Max(),
            _ => ranks.Distinct().Count() == 1 ? ranks[0]
                : throw new AdapterException(null, $"{method} needs adapters of one rank, got {string.Join(", ", adapters.Select((a, i) => $"'{a}' r = {ranks[i]}"))}; use Cat or an Svd method."),
        };
        var config = CombinedConfig(records, adapters, newRank);

        var plan = new List<(string Path, LoRALayer Layer, List<Source> Sources)>();
        foreach (var (path, layer) in layers)
        {
            var sources = new List<Source>();
            for (int i = 0; i < adapters.Count; i++)
            {
                if (!layer.AdapterNames.Contains(adapters[i])) continue;
                var (a, b, _) = layer.AdapterMatrices(adapters[i]);
                sources.Add(new Source(a.detach(), b.detach(), layer.ScalingOf(adapters[i]), weights[i]));
            }
            if (sources.Count == 0) continue;
            if (method is AdapterCombinationMethod.Linear or AdapterCombinationMethod.Ties or AdapterCombinationMethod.DareLinear
                    or AdapterCombinationMethod.DareTies or AdapterCombinationMethod.MagnitudePrune
                && sources.Any(s => s.A.shape[0] != newRank))
                throw new AdapterException(path, $"{method} needs every adapter at rank {newRank} on each layer, but here they have {string.Join(", ", sources.Select(s => s.A.shape[0]))} (a rank pattern); use Cat or an Svd method.");
            var rankName = method == AdapterCombinationMethod.Cat ? "rank (Cat: the sum of the adapters' ranks)" : nameof(AdapterCombination.SvdRank);
            SettingRules.ThrowIf($"weighted adapter '{adapterName}' on '{path}'", SettingRules.RankFits(rankName, newRank, layer.InFeatures, layer.OutFeatures));
            plan.Add((path, layer, sources));
        }

        // Everything is checked: from here on the model changes.
        var generator = combination.Seed is { } seed ? new Generator(unchecked((ulong)seed)) : null;
        draw ??= (like, density) =>
        {
            using Scalar p = density;
            return full_like(like, p).bernoulli(generator);
        };
        var record = AdapterRecord.OfInjection(config, model);
        foreach (var (_, layer, sources) in plan)
        {
            var (a, b) = Combine(method, sources, newRank, combination, draw);
            layer.AddAdapter(adapterName, config);
            var (targetA, targetB, _) = layer.AdapterMatrices(adapterName);
            using (no_grad())
            {
                targetA.copy_(a);
                targetB.copy_(b);
            }
            a.Dispose();
            b.Dispose();
            layer.Adopt(adapterName, record);
        }
        generator?.Dispose();
        Substitution.AdapterRefresh.RefreshQuietly(model);
        return AdapterRecord.Copy(config);
    }

    /// <summary>The new adapter's A [rank, in] and B [out, rank] on one layer.</summary>
    internal static (Tensor A, Tensor B) Combine(AdapterCombinationMethod method, IReadOnlyList<Source> sources, int rank,
        AdapterCombination settings, TaskArithmetic.MaskDraw draw)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (a, b) = method switch
        {
            AdapterCombinationMethod.Cat => Concatenated(sources, rank),
            AdapterCombinationMethod.Svd or AdapterCombinationMethod.TiesSvd or AdapterCombinationMethod.DareLinearSvd
                or AdapterCombinationMethod.DareTiesSvd or AdapterCombinationMethod.MagnitudePruneSvd => Factored(method, sources, rank, settings, draw),
            _ => MatrixWise(method, sources, settings, draw),
        };
        return (a.contiguous().MoveToOuterDisposeScope(), b.contiguous().MoveToOuterDisposeScope());
    }

    // A = [w₁s₁A₁; w₂s₂A₂; …], B = [B₁, B₂, …], zero-padded to the new rank where a layer lacks some adapters.
    private static (Tensor A, Tensor B) Concatenated(IReadOnlyList<Source> sources, int rank)
    {
        var a = cat(sources.Select(s => { using Scalar factor = s.Weight * s.Scaling; return s.A.mul(factor); }).ToArray(), 0);
        var b = cat(sources.Select(s => s.B).ToArray(), 1);
        long missing = rank - a.shape[0];
        if (missing > 0)
        {
            a = cat([a, zeros(missing, a.shape[1], dtype: a.dtype, device: a.device)], 0);
            b = cat([b, zeros(b.shape[0], missing, dtype: b.dtype, device: b.device)], 1);
        }
        return (a, b);
    }

    // PEFT merges A's and B's separately: A's weights carry the sign of w·s, both carry √|w·s|.
    private static (Tensor A, Tensor B) MatrixWise(AdapterCombinationMethod method, IReadOnlyList<Source> sources, AdapterCombination settings, TaskArithmetic.MaskDraw draw)
    {
        var weightsA = sources.Select(s => (s.Weight * s.Scaling >= 0 ? 1 : -1) * Math.Sqrt(Math.Abs(s.Weight * s.Scaling))).ToList();
        var weightsB = sources.Select(s => Math.Sqrt(Math.Abs(s.Weight * s.Scaling))).ToList();
        var a = Merge(method, sources.Select(s => s.A).ToList(), weightsA, settings, draw);
        var b = Merge(method, sources.Select(s => s.B).ToList(), weightsB, settings, draw);
        return (a, b);
    }

    // ΔWᵢ = sᵢ·Bᵢ·Aᵢ weighted by wᵢ·sᵢ (PEFT's definition), merged, then W ≈ U·S·Vh truncated: B = U·S, A = Vh.
    private static (Tensor A, Tensor B) Factored(AdapterCombinationMethod method, IReadOnlyList<Source> sources, int rank, AdapterCombination settings, TaskArithmetic.MaskDraw draw)
    {
        var deltas = sources.Select(s => { using Scalar scaling = s.Scaling; return s.B.matmul(s.A).mul(scaling); }).ToList();
        var weights = sources.Select(s => s.Weight * s.Scaling).ToList();
        var merged = Merge(method, deltas, weights, settings, draw);
        var (u, singular, vh) = linalg.svd(merged, fullMatrices: false);
        var b = u.narrow(1, 0, rank).mul(singular.narrow(0, 0, rank).unsqueeze(0));
        var a = vh.narrow(0, 0, rank);
        if (settings.SvdClamp is { } clamp)
        {
            var high = quantile(cat([b.flatten(), a.flatten()]), tensor(clamp, dtype: a.dtype, device: a.device));
            var low = high.neg();
            b = b.clamp(low, high);
            a = a.clamp(low, high);
        }
        return (a, b);
    }

    private static Tensor Merge(AdapterCombinationMethod method, IReadOnlyList<Tensor> tasks, IReadOnlyList<double> weights, AdapterCombination settings, TaskArithmetic.MaskDraw draw)
    {
        double density = settings.Density ?? 1;
        return method switch
        {
            AdapterCombinationMethod.Linear or AdapterCombinationMethod.Svd => TaskArithmetic.WeightedSum(tasks, weights),
            AdapterCombinationMethod.Ties or AdapterCombinationMethod.TiesSvd => TaskArithmetic.Ties(tasks, weights, density, settings.MajoritySign),
            AdapterCombinationMethod.DareLinear or AdapterCombinationMethod.DareLinearSvd => TaskArithmetic.DareLinear(tasks, weights, density, draw),
            AdapterCombinationMethod.DareTies or AdapterCombinationMethod.DareTiesSvd => TaskArithmetic.DareTies(tasks, weights, density, settings.MajoritySign, draw),
            AdapterCombinationMethod.MagnitudePrune or AdapterCombinationMethod.MagnitudePruneSvd => TaskArithmetic.MagnitudePrune(tasks, weights, density),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }

    /// <summary>PEFT's record of the result: the first adapter's, with the new rank as r and alpha, the union of targets, no patterns, no rsLoRA.</summary>
    private static LoRAConfig CombinedConfig(IReadOnlyList<LoRAConfig> records, IReadOnlyList<string> adapters, int rank)
    {
        bool regexes = records.All(r => r.TargetRegex is not null), lists = records.All(r => r.TargetRegex is null);
        if (!regexes && !lists)
            throw new AdapterException(null, $"adapters {string.Join(", ", adapters.Select(a => $"'{a}'"))} state their targets in different forms (a regex and name lists); " +
                "PEFT cannot combine those either. Give them targets of one form.");
        return AdapterRecord.Copy(records[0]) with
        {
            Rank = rank,
            Alpha = rank,
            UseRsLora = false,
            UseDora = false,
            Init = LoRAInit.Default,
            PissaIterations = null,
            TargetRegex = regexes ? string.Join("|", records.Select(r => $"({r.TargetRegex})")) : null,
            TargetModules = regexes ? [] : [.. records.SelectMany(r => r.TargetModules).Distinct(StringComparer.Ordinal)],
            RankPattern = new Dictionary<string, int>(),
            AlphaPattern = new Dictionary<string, double>(),
        };
    }
}
