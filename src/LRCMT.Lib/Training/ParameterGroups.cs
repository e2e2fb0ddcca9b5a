using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;

namespace LRCMT.Training;

/// <summary>
/// Splits a model's trainable parameters by name: adapters (names containing <c>lora_</c>, as PEFT and our injector
/// name them) get the adapter learning rate; when an encoder learning rate is set, the other trainable parameters
/// under the encoder prefix (full fine-tuning) get it; everything else that trains gets the main learning rate.
/// </summary>
internal static class ParameterGroups
{
    public const string AdapterMarker = "lora_";

    private enum Part { Adapter, Encoder, Other }

    /// <summary>Trainable parameters grouped adapters, encoder, others; each part in the model's own order (the optimizer-state order).</summary>
    public static IReadOnlyList<(string Name, Parameter Param)> Trainable(torch.nn.Module model, TrainerOptions options)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (trainable.Count == 0)
            throw new InvalidConfigurationException("model", "it has no trainable parameters (every parameter has requires_grad = false).");
        return trainable.OrderBy(p => PartOf(p.name, options)).Select(p => (p.name, p.parameter)).ToList(); // OrderBy is stable
    }

    public static bool IsAdapter(string name) => name.Contains(AdapterMarker, StringComparison.Ordinal);

    /// <summary>AdamW (the memory-lean <see cref="LeanAdamW"/>) with one group per non-empty part, in the order of <see cref="Trainable"/>.</summary>
    public static torch.optim.Optimizer CreateAdamW(IReadOnlyList<(string Name, Parameter Param)> trainable, TrainerOptions options)
    {
        var groups = new List<AdamW.ParamGroup>();
        foreach (var part in Enum.GetValues<Part>())
        {
            var members = trainable.Where(t => PartOf(t.Name, options) == part).Select(t => t.Param).ToList();
            if (members.Count > 0) groups.Add(new AdamW.ParamGroup(members, lr: RateOf(part, options), weight_decay: options.WeightDecay));
        }
        return new LeanAdamW(groups, options.LearningRate, options.WeightDecay);
    }

    private static Part PartOf(string name, TrainerOptions options) =>
        IsAdapter(name) ? Part.Adapter
        : options.EncoderLearningRate is not null && name.StartsWith(options.EncoderParameterPrefix, StringComparison.Ordinal) ? Part.Encoder
        : Part.Other;

    private static double RateOf(Part part, TrainerOptions options) => part switch
    {
        Part.Adapter => options.AdapterLearningRate,
        Part.Encoder => options.EncoderLearningRate!.Value,
        _ => options.LearningRate,
    };
}
