using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Baselines;

/// <summary>
/// A baseline fusion model behind a text encoder: the encoder (frozen, LoRA-adapted or fully fine-tuned, as the caller
/// prepared it) turns the tokens into states, and a <see cref="FusionBody"/> (<see cref="MulTFusion"/>,
/// <see cref="TfnFusion"/>, <see cref="LmfFusion"/>) fuses them with the acoustic and visual frames. Forward returns
/// [batch] scores for a body with one output, or [batch, classes] logits; train it with <c>Trainer</c> like
/// <c>LRCMTModel</c>. Built from a description (<c>LrcmtBuilder.BuildModel()</c> with architecture MulT, Tfn or Lmf) it
/// saves and loads like LRCMT (<see cref="SentimentModel.Save"/>).
/// <code>
/// var bert = BertModel.FromPretrained("bert-base-uncased");
/// LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
/// using var model = new BaselineModel(bert, new MulTFusion(bert.HiddenSize, acousticFeatures: 5, visualFeatures: 20));
/// </code>
/// </summary>
/// <remarks>Parameter names: <c>text_encoder.*</c> (the encoder's own), <c>fusion.*</c> (the body's).</remarks>
public sealed class BaselineModel : SentimentModel
{
    private readonly TextEncoder text_encoder;
    private readonly FusionBody fusion;

    /// <summary>Puts <paramref name="fusion"/> behind <paramref name="textEncoder"/>; the model owns both.</summary>
    /// <param name="textEncoder">The text encoder, its trainable parameters already chosen (e.g. LoRA injected, or frozen).</param>
    /// <param name="fusion">The fusion body; its <see cref="FusionBody.TextWidth"/> must be the encoder's hidden size.</param>
    /// <exception cref="InvalidConfigurationException">The body was built for another text width.</exception>
    /// <remarks>
    /// A model composed this way reports what it is made of (<see cref="SentimentModel.Options"/>: architecture, body
    /// settings, feature sizes, head, and the tuning read from the encoder) but cannot be saved with its description,
    /// since the untuned encoder it started from is unknown: build it with <c>LrcmtBuilder.BuildModel()</c> for that.
    /// </remarks>
    public BaselineModel(TextEncoder textEncoder, FusionBody fusion)
        : base(nameof(BaselineModel), Describe(textEncoder, fusion), injection: null, baseEncoderSha256: null)
    {
        text_encoder = textEncoder;
        this.fusion = fusion;
        RegisterComponents();
    }

    /// <summary>The body a description names, behind an encoder whose tuning is applied (<see cref="SentimentModel.Compose"/>).</summary>
    internal BaselineModel(TextEncoder textEncoder, LrcmtOptions options, InjectionReport? injection, string baseEncoderSha256)
        : base(nameof(BaselineModel), options, injection, baseEncoderSha256)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        options.Validate();
        var (hidden, acoustic, visual, outputs) = (textEncoder.HiddenSize, options.Modalities.AcousticFeatures, options.Modalities.VisualFeatures, options.Head.Outputs);
        text_encoder = textEncoder;
        fusion = options.Architecture switch
        {
            ModelArchitecture.MulT => new MulTFusion(hidden, acoustic, visual, outputs, options.MulT),
            ModelArchitecture.Tfn => new TfnFusion(hidden, acoustic, visual, outputs, options.Tfn),
            ModelArchitecture.Lmf => new LmfFusion(hidden, acoustic, visual, outputs, options.Lmf),
            var other => throw new InvalidConfigurationException("baseline model",
                [new SettingProblem(nameof(LrcmtOptions.Architecture), $"is {other}, which is not a fusion body behind an encoder (MulT, Tfn or Lmf)")]),
        };
        RegisterComponents();
    }

    private static LrcmtOptions Describe(TextEncoder textEncoder, FusionBody fusion)
    {
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(fusion);
        if (fusion.TextWidth != textEncoder.HiddenSize)
            throw new InvalidConfigurationException("baseline model",
                $"the fusion body expects text states of width {fusion.TextWidth} but the text encoder's hidden size is {textEncoder.HiddenSize}.");
        // FusionBody's constructor is not visible outside the library: these are all the bodies there are.
        var (architecture, section) = fusion switch
        {
            MulTFusion mult => (ModelArchitecture.MulT, (Func<LrcmtOptions, LrcmtOptions>)(o => o with { MulT = mult.Settings })),
            TfnFusion tfn => (ModelArchitecture.Tfn, o => o with { Tfn = tfn.Settings }),
            LmfFusion lmf => (ModelArchitecture.Lmf, o => o with { Lmf = lmf.Settings }),
            _ => throw new ArgumentException($"Unknown fusion body {fusion.GetType().Name}.", nameof(fusion)),
        };
        return Describe(textEncoder, architecture, fusion.AcousticFeatures, fusion.VisualFeatures, fusion.Outputs, section);
    }

    /// <summary>The text encoder (with its adapters, if any).</summary>
    public override TextEncoder TextEncoder => text_encoder;

    /// <summary>The fusion body.</summary>
    public FusionBody Fusion => fusion;

    /// <summary>Predicts sentiment for a batch.</summary>
    /// <returns>[batch] scores (one output) or [batch, classes] logits.</returns>
    /// <exception cref="ShapeMismatchException">A modality's tensor or mask does not fit the model or the other modalities.</exception>
    /// <exception cref="InvalidInputException">A modality's tensor is on another device than the model, or its features are not the model's dtype.</exception>
    public override Tensor forward(MultimodalBatch batch)
    {
        BaselineInputs.Validate(batch, fusion.AcousticFeatures, fusion.VisualFeatures, fusion);
        using var scope = NewDisposeScope();
        var states = BaselineInputs.Encode(text_encoder, batch, needsGraph: false).LastHiddenState;
        var prediction = fusion.call(
            BaselineInputs.Stream(states, batch.AttentionMask),
            BaselineInputs.Stream(batch.Acoustic, batch.AcousticMask),
            BaselineInputs.Stream(batch.Visual, batch.VisualMask));
        return BaselineInputs.Shape(prediction, fusion.Outputs).MoveToOuterDisposeScope();
    }
}
