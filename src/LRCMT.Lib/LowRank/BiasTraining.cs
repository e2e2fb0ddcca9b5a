using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace LRCMT.LowRank;

/// <summary>
/// PEFT's <c>bias</c> option, in one place: which biases train with an adapter and are saved with it.
/// <c>All</c>: every parameter named <c>bias</c> or ending in <c>.bias</c>; <c>LoraOnly</c>: the bias of each adapted
/// layer (<see cref="LoRALinear.Bias"/>).
/// </summary>
internal static class BiasTraining
{
    /// <summary>Makes the selected biases trainable (after the injector froze everything else).</summary>
    public static void Unfreeze(nn.Module model, LoRABias bias)
    {
        foreach (var (_, parameter, _) in Selected(model, bias)) parameter.requires_grad = true;
    }

    /// <summary>
    /// The selected biases by model state-dict key, with the module path whose bias it is and whether that module is an
    /// adapted layer (PEFT then names it <c>&lt;path&gt;.base_layer.bias</c>).
    /// </summary>
    public static IEnumerable<(string Key, Parameter Parameter, string? AdaptedLayerPath)> Selected(nn.Module model, LoRABias bias)
    {
        if (bias == LoRABias.None) yield break;
        var adapted = model.named_modules().Where(m => m.module is LoRALayer).Select(m => m.name).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, parameter) in model.named_parameters())
        {
            if (key != "bias" && !key.EndsWith(".bias", StringComparison.Ordinal)) continue;
            var owner = key.Length > 5 ? key[..^5] : "";
            bool isAdapted = adapted.Contains(owner);
            if (bias == LoRABias.LoraOnly && !isAdapted) continue;
            yield return (key, parameter, isAdapted ? owner : null);
        }
    }
}
