using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using TorchSharp.Modules;

namespace LRCMT.Training;

/// <summary>
/// Splits a model's trainable parameters by the model's structure, never by name: adapter tensors are those of the
/// <see cref="LoRALayer"/>s the injector placed; encoder parameters are the other trainable parameters of the model's
/// <see cref="TextEncoder"/> modules (its own weights under full fine-tuning); everything else that trains is "other".
/// Under LoRA+ (<see cref="TrainerOptions.LoraPlusRatio"/>) the adapters split into their A side and their B side
/// (<see cref="LoRALayer.LoraPlusBSide"/>), and the weights of <c>Embedding</c> modules get their own group.
/// </summary>
internal sealed class ParameterGroups
{
    private readonly TrainerOptions _options;

    private ParameterGroups(IReadOnlyList<(string Name, Parameter Param)> trainable, IReadOnlyList<ParameterGroup> groups, TrainerOptions options)
    {
        Trainable = trainable;
        GroupOf = groups;
        _options = options;
    }

    /// <summary>Trainable parameters ordered adapters, encoder, others; each part in the model's own order (the optimizer-state order).</summary>
    public IReadOnlyList<(string Name, Parameter Param)> Trainable { get; }

    /// <summary>The group of each entry of <see cref="Trainable"/>.</summary>
    public IReadOnlyList<ParameterGroup> GroupOf { get; }

    /// <summary>The non-empty groups, in optimizer order.</summary>
    public IReadOnlyList<ParameterGroup> Present => GroupOf.Distinct().ToList();

    /// <summary>Whether the text encoder's own weights train (full fine-tuning).</summary>
    public bool EncoderTrains => GroupOf.Contains(ParameterGroup.Encoder);

    public static ParameterGroups Of(torch.nn.Module model, TrainerOptions options)
    {
        var layers = model.modules().OfType<LoRALayer>().ToList();
        var adapters = layers.SelectMany(l => l.AdapterParameters()).Select(p => p.Handle).ToHashSet();
        var encoder = model.modules().OfType<TextEncoder>().SelectMany(e => e.parameters()).Select(p => p.Handle).ToHashSet();
        bool loraPlus = options.LoraPlusRatio is not null;
        var bSide = loraPlus ? layers.SelectMany(l => l.LoraPlusBSide()).Select(p => p.Handle).ToHashSet() : [];
        var embeddings = loraPlus ? model.modules().OfType<Embedding>().SelectMany(e => e.parameters()).Select(p => p.Handle).ToHashSet() : [];
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => (p.name, p.parameter, Group: bSide.Contains(p.parameter.Handle) ? ParameterGroup.AdapterB
                : adapters.Contains(p.parameter.Handle) ? ParameterGroup.Adapter
                : embeddings.Contains(p.parameter.Handle) ? ParameterGroup.Embedding
                : encoder.Contains(p.parameter.Handle) ? ParameterGroup.Encoder : ParameterGroup.Other))
            .ToList();
        if (trainable.Count == 0)
            throw new InvalidConfigurationException("model", "it has no trainable parameters (every parameter has requires_grad = false).");
        var ordered = trainable.OrderBy(t => t.Group).ToList(); // OrderBy is stable
        return new ParameterGroups(ordered.Select(t => (t.name, t.parameter)).ToList(), ordered.Select(t => t.Group).ToList(), options);
    }

    /// <summary>The base learning rate of a group.</summary>
    public double RateOf(ParameterGroup group) => group switch
    {
        ParameterGroup.Adapter => _options.AdapterLearningRate,
        ParameterGroup.AdapterB => _options.AdapterLearningRate * (_options.LoraPlusRatio ?? 1),
        ParameterGroup.Embedding => _options.LoraPlusEmbeddingLearningRate ?? TrainerOptions.DefaultLoraPlusEmbeddingLearningRate,
        ParameterGroup.Encoder => _options.EncoderLearningRate ?? TrainerOptions.DefaultEncoderLearningRate,
        _ => _options.LearningRate,
    };

    /// <summary>Every present group's learning rate at a schedule factor.</summary>
    public IReadOnlyDictionary<ParameterGroup, double> Rates(double factor) => Present.ToDictionary(g => g, g => RateOf(g) * factor);

    /// <summary>Every present group's parameters (in the order of <see cref="Trainable"/>) with its base learning rate.</summary>
    public IReadOnlyList<(ParameterGroup Group, IReadOnlyList<Parameter> Parameters, double LearningRate)> Groups()
        => Present.Select(group => (group, (IReadOnlyList<Parameter>)Trainable.Where((_, i) => GroupOf[i] == group).Select(t => t.Param).ToList(), RateOf(group))).ToList();

    /// <summary>AdamW (the memory-lean <see cref="LeanAdamW"/>) with one group per non-empty part, in the order of <see cref="Trainable"/>.</summary>
    public torch.optim.Optimizer CreateAdamW()
    {
        var groups = Groups().Select(g => new AdamW.ParamGroup(g.Parameters, lr: g.LearningRate, weight_decay: _options.WeightDecay)).ToList();
        return new LeanAdamW(groups, lr: _options.LearningRate, weight_decay: _options.WeightDecay);
    }
}
