using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;

namespace LRCMT.Training;

/// <summary>
/// Splits a model's trainable parameters by name: adapters (names containing <c>lora_</c>, as PEFT and our injector
/// name them) get the adapter learning rate, everything else that trains gets the other one.
/// </summary>
internal static class ParameterGroups
{
    public const string AdapterMarker = "lora_";

    /// <summary>Trainable parameters, adapters first, each part in the model's own order (the optimizer-state order).</summary>
    public static IReadOnlyList<(string Name, Parameter Param)> Trainable(torch.nn.Module model)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0)
            throw new InvalidConfigurationException("model", "it has no trainable parameters (every parameter has requires_grad = false).");
        return trainable.Where(p => IsAdapter(p.name)).Concat(trainable.Where(p => !IsAdapter(p.name)))
            .Select(p => (p.name, p.parameter)).ToList();
    }

    public static bool IsAdapter(string name) => name.Contains(AdapterMarker, StringComparison.Ordinal);

    /// <summary>AdamW with one group per non-empty part, in the order of <see cref="Trainable"/>.</summary>
    public static torch.optim.Optimizer CreateAdamW(IReadOnlyList<(string Name, Parameter Param)> trainable, TrainerOptions options)
    {
        var groups = new List<AdamW.ParamGroup>();
        var adapters = trainable.Where(t => IsAdapter(t.Name)).Select(t => t.Param).ToList();
        var others = trainable.Where(t => !IsAdapter(t.Name)).Select(t => t.Param).ToList();
        if (adapters.Count > 0) groups.Add(new AdamW.ParamGroup(adapters, lr: options.AdapterLearningRate, weight_decay: options.WeightDecay));
        if (others.Count > 0) groups.Add(new AdamW.ParamGroup(others, lr: options.LearningRate, weight_decay: options.WeightDecay));
        return torch.optim.AdamW(groups, lr: options.LearningRate, weight_decay: options.WeightDecay);
    }
}
