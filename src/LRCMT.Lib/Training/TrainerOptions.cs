using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Training;

/// <summary>Settings of a <see cref="Trainer"/> run. Plain data; <see cref="Validate"/> lists every problem at once.</summary>
public sealed record TrainerOptions
{
    /// <summary>The name <see cref="EarlyStoppingMetric"/> takes to follow the validation loss.</summary>
    public const string LossMetric = "Loss";

    /// <summary>Number of epochs.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Learning rate of adapter parameters (the tensors of every <c>LoRALayer</c>).</summary>
    public double AdapterLearningRate { get; init; } = 5e-4;

    /// <summary>Learning rate of every other trainable parameter (fusion, head).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// Learning rate of the trainable non-adapter parameters of the model's text encoder (every <c>TextEncoder</c>
    /// module in it) — the encoder's own weights when it is fully fine-tuned. Null: they use <see cref="LearningRate"/>.
    /// A pretrained encoder usually wants a rate 10× or more below a freshly initialised fusion head's.
    /// </summary>
    public double? EncoderLearningRate { get; init; }

    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Fraction of all optimizer steps spent warming up linearly from 0.</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>Shape of the decay after warm-up.</summary>
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;

    /// <summary>Clip the global gradient norm to this value; 0 turns clipping off.</summary>
    public double MaxGradientNorm { get; init; } = 1.0;

    /// <summary>Training loss: L1 (default) or MSE for a regression head, <see cref="TrainingLoss.CrossEntropy"/> for a classification head.</summary>
    public TrainingLoss Loss { get; init; } = TrainingLoss.L1;

    /// <summary>
    /// The label kind: null (default) trains one regression score per sample; set, the model returns one logit per
    /// class, the labels are int64 classes of these <see cref="SentimentClasses"/> (a collator created with them makes
    /// them), the loss must be <see cref="TrainingLoss.CrossEntropy"/> and the metrics are <see cref="SentimentClasses.MetricNames"/>.
    /// </summary>
    public SentimentClasses? Classes { get; init; }

    /// <summary>Which metric set the evaluation uses.</summary>
    public MsaDataset Dataset { get; init; } = MsaDataset.Mosi;

    /// <summary>A metric of <see cref="MsaMetrics.NamesFor"/> (regression) or <see cref="SentimentClasses.MetricNames"/> (classification), or <see cref="LossMetric"/>; MAE and Loss improve downwards, the others upwards.</summary>
    public string EarlyStoppingMetric { get; init; } = MsaMetricNames.Mae;

    /// <summary>Stop after this many epochs without improvement; 0 turns early stopping off.</summary>
    public int Patience { get; init; } = 8;

    /// <summary>Seed of libtorch's generator (dropout, initialisation done during training); set at the start of a fresh run.</summary>
    public long Seed { get; init; } = 1111;

    /// <summary>Folder for <c>last.safetensors</c> (resume state, each epoch and on cancellation) and <c>best.safetensors</c>; null writes nothing.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>At the end, load the trainable weights of the best epoch back into the model (needs an evaluated epoch).</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>
    /// Calls <see cref="NativeHeap.LimitGrowth"/> when training starts, so glibc's heap stops growing from step to step
    /// (measured: full fine-tuning of a bert-base-sized encoder otherwise rose ~150 MB per step without bound). It is
    /// process-wide and costs step time (page faults; docs/performance.md), so it is off by default; no effect off glibc.
    /// </summary>
    public bool LimitNativeHeapGrowth { get; init; }

    /// <summary>Every problem of these options (paths relative to them, e.g. <c>Epochs</c>); empty when they are valid.</summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        var unknownDataset = SettingRules.Defined(nameof(Dataset), Dataset);
        var problems = SettingRules.Collect(
            SettingRules.Epochs(nameof(Epochs), Epochs),
            SettingRules.NonNegative(nameof(AdapterLearningRate), AdapterLearningRate),
            SettingRules.NonNegative(nameof(LearningRate), LearningRate),
            EncoderLearningRate is { } encoderRate ? SettingRules.NonNegative(nameof(EncoderLearningRate), encoderRate) : null,
            SettingRules.NonNegative(nameof(WeightDecay), WeightDecay),
            SettingRules.Rate(nameof(WarmupRatio), WarmupRatio),
            SettingRules.NonNegative(nameof(MaxGradientNorm), MaxGradientNorm),
            SettingRules.AtLeast(nameof(Patience), Patience, 0),
            SettingRules.Defined(nameof(Decay), Decay),
            SettingRules.Defined(nameof(Loss), Loss),
            unknownDataset);
        if (Classes is null && Loss == TrainingLoss.CrossEntropy)
            problems.Add(new(nameof(Loss), "CrossEntropy needs Classes (a classification head's sentiment classes)"));
        if (Classes is not null && Loss != TrainingLoss.CrossEntropy)
            problems.Add(new(nameof(Loss), $"must be CrossEntropy when Classes is set (a classification head), got {Loss}"));
        if (Classes is { } classes)
        {
            if (classes.Dataset != Dataset) problems.Add(new(nameof(Classes), $"follow {classes.Dataset}'s convention but Dataset is {Dataset}"));
            problems.AddRange(classes.FindProblems().Select(p => p.Within(nameof(Classes))));
        }
        // An unknown dataset has no metric set to check the early-stopping metric against.
        if (unknownDataset is null && MetricNames is var metrics && EarlyStoppingMetric != LossMetric && !metrics.Contains(EarlyStoppingMetric))
            problems.Add(new(nameof(EarlyStoppingMetric),
                $"must be {LossMetric} or a {Dataset} {(Classes is null ? "regression" : "classification")} metric ({string.Join(", ", metrics)}), got '{EarlyStoppingMetric}'"));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("trainer options", FindProblems());

    /// <summary>The metric names an evaluation under these options reports.</summary>
    internal IReadOnlyList<string> MetricNames => Classes is { } classes && classes.FindProblems().Count == 0 ? classes.MetricNames : MsaMetrics.NamesFor(Dataset);

    internal bool HigherIsBetter => EarlyStoppingMetric != LossMetric && MsaMetricNames.HigherIsBetter(EarlyStoppingMetric);
}
