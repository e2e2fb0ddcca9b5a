using LRCMT.Baselines;
using LRCMT.Errors;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.Models;
using Microsoft.Extensions.Configuration;

namespace LRCMT.Configuration;

/// <summary>
/// The one description of a model: its architecture (LRCMT, or a baseline: MulT, TFN, LMF, MAG-BERT), its text encoder
/// (source, tuning, base dtype), LoRA adapters, modality sizes, the architecture's own section (LRCMT's fusion and
/// interaction, or the baseline's settings) and head. Immutable: set it when creating it (or bind it from configuration, section
/// <see cref="SectionName"/> of appsettings.json), derive variants with <c>with</c>. The defaults are this library's
/// best measured configuration (docs/ablation.md); <see cref="LrcmtPresets"/> holds named alternatives such as the
/// paper's. <see cref="LrcmtBuilder"/>, <c>services.AddLrcmt(...)</c> and the <c>lrcmt</c> tool all build a model
/// from one of these, the model reports the one it was built with (<see cref="SentimentModel.Options"/>, e.g. with the
/// feature sizes it got), <see cref="SentimentModel.Save"/> writes it whole and <see cref="SentimentModel.Load(string)"/>
/// rebuilds exactly it. Two descriptions are equal when every setting is, lists compared by content.
/// </summary>
public sealed record LrcmtOptions
{
    /// <summary>The configuration section these options bind from by default.</summary>
    public const string SectionName = "Lrcmt";

    /// <summary>
    /// Which model this describes (default LRCMT). Each architecture reads the shared sections (text encoder, LoRA,
    /// modalities' feature sizes, head kind and classes) and its own: <see cref="Fusion"/>, <see cref="Interaction"/> and
    /// the modalities' kernels for LRCMT, <see cref="MulT"/>, <see cref="Tfn"/>, <see cref="Lmf"/> or <see cref="Mag"/> for
    /// a baseline. Sections of other architectures are kept (and saved) but neither read nor checked.
    /// </summary>
    public ModelArchitecture Architecture { get; init; } = ModelArchitecture.Lrcmt;

    /// <summary>Where the pretrained text encoder comes from, which of its parameters train, and its base dtype.</summary>
    public TextEncoderOptions TextEncoder { get; init; } = new();

    /// <summary>LoRA adapters injected into the encoder when <see cref="TextEncoderOptions.Tuning"/> is LoRA (default: r=8, alpha 16, dropout 0.1 on query and value).</summary>
    public LoRAConfig LoRA { get; init; } = new() { Rank = 8, Alpha = 16, Dropout = 0.1, TargetModules = ["query", "value"] };

    /// <summary>Raw feature sizes of the acoustic and visual inputs and the projection kernels.</summary>
    public ModalityOptions Modalities { get; init; } = new();

    /// <summary>Width, heads, layers, dropouts and time bias of the cross-modal encoders.</summary>
    public CrossModalSettings Fusion { get; init; } = new();

    /// <summary>How the text meets the acoustic and visual sequences.</summary>
    public InteractionOptions Interaction { get; init; } = new();

    /// <summary>Regression or classification head, and its classes (every architecture); its dropout is LRCMT's head's.</summary>
    public HeadOptions Head { get; init; } = new();

    /// <summary>MulT's shape and dropouts, read when <see cref="Architecture"/> is MulT (defaults: the published code's).</summary>
    public MulTSettings MulT { get; init; } = new();

    /// <summary>TFN's subnetworks and inference layers, read when <see cref="Architecture"/> is Tfn (defaults: the paper's).</summary>
    public TfnSettings Tfn { get; init; } = new();

    /// <summary>LMF's subnetworks and rank, read when <see cref="Architecture"/> is Lmf (defaults: the published code's).</summary>
    public LmfSettings Lmf { get; init; } = new();

    /// <summary>MAG-BERT's gate, read when <see cref="Architecture"/> is MagBert (defaults: the published code's).</summary>
    public MagSettings Mag { get; init; } = new();

    /// <summary>
    /// Every problem of this description, each at its path (e.g. <c>Fusion.Heads</c>); empty when it describes a
    /// model that can be built. The LoRA section is checked when the tuning is LoRA, and of the architectures' own
    /// sections only the one <see cref="Architecture"/> reads. Whether the encoder source is given and exists is checked
    /// where the encoder is loaded (<see cref="LrcmtBuilder.Build"/>, start-up validation), and whether MAG-BERT's encoder
    /// has the layers its gate needs when the model is built.
    /// </summary>
    public IReadOnlyList<SettingProblem> FindProblems()
    {
        var problems = new List<SettingProblem>();
        if (SettingRules.Defined(nameof(Architecture), Architecture) is { } undefined) problems.Add(undefined);
        AddSection(problems, nameof(TextEncoder), TextEncoder?.FindProblems());
        if (TextEncoder?.Tuning == EncoderTuning.LoRA) AddSection(problems, nameof(LoRA), LoRA?.FindProblems());
        AddSection(problems, nameof(Modalities), Modalities?.FindProblems());
        switch (Architecture)
        {
            case ModelArchitecture.Lrcmt:
                AddSection(problems, nameof(Fusion), Fusion?.FindProblems());
                AddSection(problems, nameof(Interaction), Interaction?.FindProblems());
                break;
            case ModelArchitecture.MulT:
                AddSection(problems, nameof(MulT), MulT?.FindProblems());
                break;
            case ModelArchitecture.Tfn:
                AddSection(problems, nameof(Tfn), Tfn?.FindProblems());
                break;
            case ModelArchitecture.Lmf:
                AddSection(problems, nameof(Lmf), Lmf?.FindProblems());
                break;
            case ModelArchitecture.MagBert:
                AddSection(problems, nameof(Mag), Mag?.FindProblems());
                break;
        }
        AddSection(problems, nameof(Head), Head?.FindProblems());
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> listing <see cref="FindProblems"/>, if any.</summary>
    public void Validate() => SettingRules.ThrowIfAny("LRCMT options", FindProblems());

    /// <summary>
    /// <paramref name="start"/> (default: the defaults) overlaid with <paramref name="section"/> (e.g.
    /// <c>configuration.GetSection("Lrcmt")</c>). A list given in configuration (e.g. <c>LoRA:TargetModules</c>)
    /// replaces the list it overlays rather than extending it. <paramref name="start"/> itself is not changed.
    /// </summary>
    /// <param name="section">The configuration section.</param>
    /// <param name="start">The description to overlay, e.g. <see cref="LrcmtPresets.Paper"/>.</param>
    /// <exception cref="InvalidConfigurationException">A value cannot be converted to its setting's type (the message names the key, the value and the type).</exception>
    public static LrcmtOptions FromConfiguration(IConfiguration section, LrcmtOptions? start = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        // The binder sets the properties of the sections it finds in place, so it works on copies of them.
        var options = (start ?? new LrcmtOptions()) with { };
        options = options with
        {
            TextEncoder = options.TextEncoder with { }, LoRA = options.LoRA with { }, Modalities = options.Modalities with { },
            Fusion = options.Fusion with { }, Interaction = options.Interaction with { }, Head = options.Head with { },
            // The baselines' sections hold sections of their own, copied too (the start's must not change).
            MulT = options.MulT with { CrossModal = options.MulT.CrossModal with { } },
            Tfn = options.Tfn with { Subnetworks = options.Tfn.Subnetworks with { } },
            Lmf = options.Lmf with { Subnetworks = options.Lmf.Subnetworks with { } },
            Mag = options.Mag with { },
        };
        ConfigurationLists.Bind(section, options);
        return options;
    }

    /// <summary>The problems of the encoder's source for a build: given in code, or loaded from the folder or file set here.</summary>
    internal IEnumerable<SettingProblem> SourceProblems(bool encoderGivenInCode) =>
        TextEncoder?.SourceProblems(encoderGivenInCode).Select(p => p.Within(nameof(TextEncoder))) ?? [];

    private static void AddSection(List<SettingProblem> problems, string section, IReadOnlyList<SettingProblem>? found)
    {
        if (found is null) problems.Add(new(section, "must be set"));
        else problems.AddRange(found.Select(p => p.Within(section)));
    }
}
