using System.Collections.Concurrent;
using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace LRCMT.LowRank;

/// <summary>
/// How to read the projection of a linear-like module type of your own (PEFT's custom-module mapping): the name under
/// which the module registers its weight (a parameter or a buffer) and its bias, and whether the weight is stored
/// [out, in] (as <c>nn.Linear</c>) or [in, out] (as GPT-2's <c>Conv1D</c>). The module must compute x·Wᵀ + b from
/// that weight (x·W + b when transposed) and read it from one of its own fields.
/// </summary>
/// <param name="WeightName">Registered name of the weight, e.g. <c>weight</c>.</param>
/// <param name="BiasName">Registered name of the bias, or null when the module has none.</param>
/// <param name="WeightIsInputByOutput">True when the weight is stored [in, out].</param>
public sealed record LinearLikeSpec(string WeightName = "weight", string? BiasName = "bias", bool WeightIsInputByOutput = false);

/// <summary>
/// The registry of linear-like module types LoRA can target besides <c>nn.Linear</c>. Register a type once; from then
/// on <see cref="LowRankInjector.Inject"/> adapts targets of that type by substitution (the module stays where it is,
/// its forward reads the adapted weight; see docs/lora.md).
/// </summary>
public static class LinearLikeModules
{
    private static readonly ConcurrentDictionary<Type, LinearLikeSpec> Registered = new();

    /// <summary>The spec of <c>nn.Linear</c> itself.</summary>
    internal static readonly LinearLikeSpec LinearSpec = new();

    /// <summary>Registers <typeparamref name="TModule"/> (and types derived from it) as linear-like.</summary>
    /// <exception cref="InvalidConfigurationException">A name is empty, or the type is TorchSharp's Linear (already supported).</exception>
    public static void Register<TModule>(LinearLikeSpec spec) where TModule : nn.Module => Register(typeof(TModule), spec);

    /// <summary>Registers <paramref name="moduleType"/> (and types derived from it) as linear-like; a second registration replaces the first.</summary>
    /// <exception cref="InvalidConfigurationException">A name is empty, the type is not a module, or it is TorchSharp's Linear.</exception>
    public static void Register(Type moduleType, LinearLikeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(moduleType);
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (!typeof(nn.Module).IsAssignableFrom(moduleType)) problems.Add($"{moduleType.Name} is not a TorchSharp module.");
        if (moduleType == typeof(Linear) || typeof(LoRALayer).IsAssignableFrom(moduleType)) problems.Add($"{moduleType.Name} is supported without registration.");
        if (string.IsNullOrWhiteSpace(spec.WeightName) || spec.WeightName.Contains('.')) problems.Add($"weight name '{spec.WeightName}' must be non-empty and contain no '.'.");
        if (spec.BiasName is { } bias && (string.IsNullOrWhiteSpace(bias) || bias.Contains('.') || bias == spec.WeightName))
            problems.Add($"bias name '{bias}' must be non-empty, contain no '.' and differ from the weight name.");
        if (problems.Count > 0) throw new InvalidConfigurationException($"linear-like module type {moduleType.Name}", problems.Select(p => new SettingProblem("", p)).ToList());
        Registered[moduleType] = spec;
    }

    /// <summary>Removes a registration; returns whether there was one.</summary>
    public static bool Unregister(Type moduleType)
    {
        ArgumentNullException.ThrowIfNull(moduleType);
        return Registered.TryRemove(moduleType, out _);
    }

    /// <summary>The spec that applies to <paramref name="module"/>: Linear's, a registered type's (the closest base wins), or null.</summary>
    internal static LinearLikeSpec? SpecOf(nn.Module module)
    {
        if (module is Linear) return LinearSpec;
        for (var type = module.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
            if (Registered.TryGetValue(type, out var spec)) return spec;
        return null;
    }
}
