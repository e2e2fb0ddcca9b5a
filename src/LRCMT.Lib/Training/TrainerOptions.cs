using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Evaluation;

namespace LRCMT.Training;

/// <summary>
/// Settings of a <see cref="Trainer"/> run. Immutable data; <see cref="FindProblems"/> lists every problem at once.
/// The defaults are this library's best measured schedule (docs/ablation.md). What the model already says is not
/// repeated here: a classification head's classes come from the model (<c>LrcmtOptions.Head</c>), and so does the
/// loss unless one is chosen.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>The name <see cref="EarlyStoppingMetric"/> takes to follow the validation loss.</summary>
    public const string LossMetric = "Loss";

    /// <summary>
    /// The learning rate of a text encoder's own weights under full fine-tuning when <see cref="EncoderLearningRate"/>
    /// is not set: a pretrained encoder needs a far smaller rate than the freshly initialised fusion and head.
    /// </summary>
    public const double DefaultEncoderLearningRate = 1e-4;

    /// <summary>
    /// The learning rate of embedding tables under LoRA+ when <see cref="LoraPlusEmbeddingLearningRate"/> is not set
    /// (PEFT's <c>loraplus_lr_embedding</c> default).
    /// </summary>
    public const double DefaultLoraPlusEmbeddingLearningRate = 1e-6;

    /// <summary>Number of epochs.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Learning rate of adapter parameters (the tensors of every <c>LoRALayer</c>).</summary>
    public double AdapterLearningRate { get; init; } = 1e-3;

    /// <summary>Learning rate of every other trainable parameter (fusion, head).</summary>
    public double LearningRate { get; init; } = 5e-3;

    /// <summary>
    /// Learning rate of the trainable non-adapter parameters of the model's text encoder (every <c>TextEncoder</c>
    /// module in it) — the encoder's own weights when it is fully fine-tuned. Null: <see cref="DefaultEncoderLearningRate"/>.
    /// </summary>
    public double? EncoderLearningRate { get; init; }

    /// <summary>
    /// LoRA+ (Hayou et al., 2024; PEFT's <c>loraplus_lr_ratio</c>): when set, the B side of every adapter
    /// (<see cref="ParameterGroup.AdapterB"/>) trains at this ratio × <see cref="AdapterLearningRate"/> and the A side at
    /// <see cref="AdapterLearningRate"/>; trainable embedding tables get <see cref="LoraPlusEmbeddingLearningRate"/>
    /// (<see cref="ParameterGroup.Embedding"/>). The paper suggests about 16. Null: one adapter learning rate.
    /// </summary>
    public double? LoraPlusRatio { get; init; }

    /// <summary>
    /// Under LoRA+ (<see cref="LoraPlusRatio"/>), the learning rate of trainable embedding tables (PEFT's
    /// <c>loraplus_lr_embedding</c>). Null: <see cref="DefaultLoraPlusEmbeddingLearningRate"/>.
    /// </summary>
    public double? LoraPlusEmbeddingLearningRate { get; init; }

    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Fraction of all optimizer steps spent warming up linearly from 0.</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>Shape of the decay after warm-up.</summary>
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;

    /// <summary>Clip the global gradient norm to this value; 0 turns clipping off.</summary>
    public double MaxGradientNorm { get; init; } = 1.0;

    /// <summary>
    /// Training loss. Null (default): the head's own, L1 for a regression head and cross-entropy for a classification
    /// head. A regression head may also use <see cref="TrainingLoss.Mse"/>; a classification head only cross-entropy.
    /// </summary>
    public TrainingLoss? Loss { get; init; }

    /// <summary>Which dataset's conventions the evaluation uses: its metric set, and a classification head's class boundaries.</summary>
    public MsaDataset Dataset { get; init; } = MsaDataset.Mosi;

    /// <summary>
    /// A metric the evaluation reports (<see cref="MsaMetrics.NamesFor"/> for a regression head,
    /// <see cref="SentimentClasses.MetricNames"/> for a classification head), or <see cref="LossMetric"/>; MAE and Loss
    /// improve downwards, the others upwards.
    /// </summary>
    public string EarlyStoppingMetric { get; init; } = MsaMetricNames.Has0Acc2;

    /// <summary>Stop after this many epochs without improvement; 0 (default) turns early stopping off and keeps the best epoch's weights.</summary>
    public int Patience { get; init; }

    /// <summary>Seed of libtorch's generator (dropout, initialisation done during training); set at the start of a fresh run.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Folder for <c>last.safetensors</c> (resume state, each epoch and on cancellation) and <c>best.safetensors</c>; null writes nothing.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>At the end, load the trainable weights of the best epoch back into the model (needs an evaluated epoch).</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>
    /// The native heap's policy for the run (process-wide; no effect off glibc). True: <see cref="HeapPolicy.Training"/>
    /// (<see cref="NativeHeap.LimitGrowth"/>), so glibc's heap stops growing from step to step; it costs step time (page
    /// faults; docs/performance.md). False: the heap is left as it is. Null (default): <see cref="HeapPolicy.Training"/>
    /// when the encoder's own weights train, which is where the heap was measured to grow without bound (full fine-tuning
    /// of a bert-base-sized encoder: ~150 MB per step); otherwise (LoRA, a frozen encoder, the baselines)
    /// <see cref="HeapPolicy.Inference"/>, every block kept in the heap for the next step, unless a policy was chosen
    /// with <see cref="NativeHeap.Apply"/> or <c>LRCMT_NATIVE_HEAP=manual</c> is set (measured: TFN's training 2× faster,
    /// the others unchanged, no growth over 6 epochs).
    /// </summary>
    public bool? LimitNativeHeapGrowth { get; init; }

    /// <summary>MMSA's seeds (its <c>-s</c> default): 1111, 1112, 1113, 1114, 1115.</summary>
    public static IReadOnlyList<int> MmsaSeeds { get; } = [1111, 1112, 1113, 1114, 1115];

    /// <summary>
    /// MMSA's early-stopping patience (<c>early_stop</c>): 8 epochs without a lower validation loss, the same in MMSA's
    /// configuration for every model the library builds (TFN, LMF, MulT, MAG-BERT) and for MOSI, MOSEI and CH-SIMS.
    /// </summary>
    public const int MmsaPatience = 8;

    /// <summary>
    /// These options under MMSA's protocol: the model is selected on the validation loss (<see cref="LossMetric"/>,
    /// MMSA's <c>KeyEval</c> for MOSI, MOSEI and CH-SIMS; an epoch must be strictly lower, so ties keep the earliest),
    /// and training stops after <see cref="MmsaPatience"/> epochs without improvement. Everything else is kept.
    /// </summary>
    public TrainerOptions WithMmsaProtocol() => this with { EarlyStoppingMetric = LossMetric, Patience = MmsaPatience };

    /// <summary>
    /// Every problem of these options (paths relative to them, e.g. <c>Epochs</c>); empty when they are valid. Whether
    /// the loss and the early-stopping metric fit the model's head is checked when training or evaluation starts.
    /// </summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        var unknownDataset = SettingRules.Defined(nameof(Dataset), Dataset);
        var problems = SettingRules.Collect(
            SettingRules.Epochs(nameof(Epochs), Epochs),
            SettingRules.NonNegative(nameof(AdapterLearningRate), AdapterLearningRate),
            SettingRules.NonNegative(nameof(LearningRate), LearningRate),
            EncoderLearningRate is { } encoderRate ? SettingRules.NonNegative(nameof(EncoderLearningRate), encoderRate) : null,
            LoraPlusRatio is { } ratio ? SettingRules.Positive(nameof(LoraPlusRatio), ratio) : null,
            LoraPlusEmbeddingLearningRate is { } embeddingRate ? SettingRules.NonNegative(nameof(LoraPlusEmbeddingLearningRate), embeddingRate) : null,
            LoraPlusEmbeddingLearningRate is not null && LoraPlusRatio is null
                ? new SettingProblem(nameof(LoraPlusEmbeddingLearningRate), $"applies only under LoRA+; set {nameof(LoraPlusRatio)} too") : null,
            SettingRules.NonNegative(nameof(WeightDecay), WeightDecay),
            SettingRules.Rate(nameof(WarmupRatio), WarmupRatio),
            SettingRules.NonNegative(nameof(MaxGradientNorm), MaxGradientNorm),
            SettingRules.AtLeast(nameof(Patience), Patience, 0),
            SettingRules.Defined(nameof(Decay), Decay),
            Loss is { } loss ? SettingRules.Defined(nameof(Loss), loss) : null,
            unknownDataset);
        // An unknown dataset has no metric set to check the early-stopping metric against.
        if (unknownDataset is null && !AnyMetricNames(Dataset).Contains(EarlyStoppingMetric))
            problems.Add(new(nameof(EarlyStoppingMetric),
                $"must be {LossMetric} or a {Dataset} metric ({string.Join(", ", AnyMetricNames(Dataset).Skip(1).Distinct())}), got '{EarlyStoppingMetric}'"));
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("trainer options", FindProblems());

    internal bool HigherIsBetter => EarlyStoppingMetric != LossMetric && MsaMetricNames.HigherIsBetter(EarlyStoppingMetric);

    /// <summary>The loss, every regression metric and every classification metric of <paramref name="dataset"/>.</summary>
    private static IReadOnlyList<string> AnyMetricNames(MsaDataset dataset) =>
        [LossMetric, .. MsaMetrics.NamesFor(dataset),
            .. SentimentClasses.SupportedCounts(dataset).SelectMany(count => new SentimentClasses(dataset, count).MetricNames)];
}
