using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Baselines;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.Tests.Models;
using LRCMT.Tests.TestSupport;
using LRCMT.TextEncoders;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>The baselines as architectures of the one model description: built, saved and loaded like LRCMT.</summary>
public sealed class BaselineDescriptionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("lrcmt-baseline-save-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static readonly TheoryData<ModelArchitecture> Baselines = new(ModelArchitecture.MulT, ModelArchitecture.Tfn, ModelArchitecture.Lmf, ModelArchitecture.MagBert);

    /// <summary>A small description of <paramref name="architecture"/> on the tiny BERT, LoRA-tuned unless said otherwise.</summary>
    private static LrcmtOptions Small(ModelArchitecture architecture, int classes = 0) => new LrcmtOptions
    {
        Architecture = architecture,
        TextEncoder = new TextEncoderOptions { PretrainedFolder = Fixtures.TinyBertFolder },
        // Random A and B, so the adapter changes the output and a lost adapter would show.
        LoRA = new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query", "value"], Init = LoRAInit.BothRandom },
        Modalities = new ModalityOptions { AcousticFeatures = BaselineTestModels.Acoustic, VisualFeatures = BaselineTestModels.Visual },
        Head = classes > 0 ? new HeadOptions { Kind = HeadKind.Classification, Classes = classes } : new HeadOptions(),
        MulT = new MulTSettings { CrossModal = new MulTSettings().CrossModal with { Width = 8, Heads = 2, Layers = 1 }, AcousticKernelSize = 3 },
        Tfn = new TfnSettings { Subnetworks = new() { TextHidden = 8, TextOut = 6, AcousticHidden = 4, VisualHidden = 3 }, PostFusionHidden = 8 },
        Lmf = new LmfSettings { Subnetworks = new() { TextHidden = 8, TextOut = 6, AcousticHidden = 4, VisualHidden = 3 }, Rank = 2 },
        Mag = new MagSettings { InjectionLayer = 1 },
    };

    private static void Perturb(nn.Module model)
    {
        using var _ = no_grad();
        using Scalar scale = 0.05; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        foreach (var p in model.parameters().Where(p => p.requires_grad)) p.add_(randn_like(p).mul(scale), RootedScalars.One);
    }

    [Theory]
    [MemberData(nameof(Baselines))]
    public void The_builder_makes_the_baseline_a_description_names_and_it_saves_and_loads_like_LRCMT(ModelArchitecture architecture)
    {
        manual_seed(11);
        string folder = Path.Combine(_root, architecture.ToString());
        using var batch = BaselineTestModels.Batch(padding: 0);
        using var original = LrcmtBuilder.FromOptions(Small(architecture)).BuildModel();
        original.Should().BeAssignableTo(architecture == ModelArchitecture.MagBert ? typeof(MagBertModel) : typeof(BaselineModel));
        if (original is BaselineModel body)
            body.Fusion.GetType().Name.Should().StartWithEquivalentOf(architecture.ToString());
        original.Options.Architecture.Should().Be(architecture);
        original.Injection.Should().NotBeNull("the description's LoRA tuning injects adapters, whatever the architecture");
        Perturb(original);
        original.eval();
        using var expected = original.call(batch);
        original.Save(folder);

        SentimentModel.ReadOptions(folder).Should().Be(original.Options, "the manifest holds the whole description");
        manual_seed(12); // another initialisation: only the files can make the loaded model agree
        using var loaded = SentimentModel.Load(folder);
        using var actual = loaded.call(batch);

        loaded.GetType().Should().Be(original.GetType());
        loaded.Options.Should().Be(original.Options);
        actual.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue("the loaded model must predict as the saved one");
        File.Exists(Path.Combine(folder, "adapter", "adapter_config.json")).Should().BeTrue();
    }

    [Fact]
    public void A_classification_head_in_the_description_gives_a_baseline_one_logit_per_class()
    {
        using var batch = BaselineTestModels.Batch(padding: 0);
        using var model = LrcmtBuilder.FromOptions(Small(ModelArchitecture.Tfn, classes: 3)).BuildModel();
        using var logits = model.call(batch);
        logits.shape.Should().Equal([3, 3]);
    }

    [Fact]
    public void Build_refuses_a_baseline_description_and_names_BuildModel_with_every_other_problem()
    {
        var builder = LrcmtBuilder.FromOptions(Small(ModelArchitecture.MulT) with { Head = new HeadOptions { Kind = HeadKind.Classification, Classes = 1 } });
        var error = builder.Invoking(b => b.Build()).Should().Throw<InvalidConfigurationException>().Which;
        error.Problems.Select(p => p.Path).Should().BeEquivalentTo(["Architecture", "Head.Classes"]);
        error.Message.Should().Contain("BuildModel()");
    }

    [Fact]
    public void LRCMTModel_Load_refuses_a_baseline_folder_before_loading_anything()
    {
        string folder = Path.Combine(_root, "lmf");
        using (var model = LrcmtBuilder.FromOptions(Small(ModelArchitecture.Lmf)).BuildModel()) model.Save(folder);

        var act = () => LRCMTModel.Load(folder);

        act.Should().Throw<InvalidConfigurationException>().WithMessage("*Lmf*SentimentModel.Load*");
    }

    [Fact]
    public void Only_the_section_of_the_chosen_architecture_is_checked()
    {
        var broken = new LrcmtOptions
        {
            Fusion = new LRCMT.Fusion.CrossModalSettings { Width = 30, Heads = 7 },
            MulT = new MulTSettings { OutputDropout = 2 },
            Tfn = new TfnSettings { PostFusionHidden = 0 },
            Lmf = new LmfSettings { Rank = 0 },
            Mag = new MagSettings { BetaShift = -1 },
        };

        Paths(broken).Should().Equal("Fusion.Heads");
        Paths(broken with { Architecture = ModelArchitecture.MulT }).Should().Equal("MulT.OutputDropout");
        Paths(broken with { Architecture = ModelArchitecture.Tfn }).Should().Equal("Tfn.PostFusionHidden");
        Paths(broken with { Architecture = ModelArchitecture.Lmf }).Should().Equal("Lmf.Rank");
        Paths(broken with { Architecture = ModelArchitecture.MagBert }).Should().Equal("Mag.BetaShift");
        Paths(broken with { Architecture = (ModelArchitecture)42 }).Should().Contain("Architecture");

        static IEnumerable<string> Paths(LrcmtOptions options) => options.FindProblems().Select(p => p.Path);
    }

    [Fact]
    public void Configuration_selects_a_baseline_and_its_settings_without_changing_the_preset_it_starts_from()
    {
        var start = LrcmtPresets.Paper;
        var widthBefore = start.MulT.CrossModal.Width;
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Architecture"] = "MulT",
            ["MulT:CrossModal:Width"] = "12",
            ["MulT:CrossModal:Heads"] = "3",
            ["Tfn:Subnetworks:TextOut"] = "9",
            ["Mag:InjectionLayer"] = "2",
        }).Build();

        var options = LrcmtOptions.FromConfiguration(section, start);

        options.Architecture.Should().Be(ModelArchitecture.MulT);
        options.MulT.CrossModal.Should().Be(new MulTSettings().CrossModal with { Width = 12, Heads = 3 });
        options.Tfn.Subnetworks.TextOut.Should().Be(9);
        options.Mag.InjectionLayer.Should().Be(2);
        start.MulT.CrossModal.Width.Should().Be(widthBefore, "binding works on copies of the nested sections too");
        start.Tfn.Subnetworks.TextOut.Should().Be(new UnimodalSubnetworkSettings().TextOut);
    }

    [Fact]
    public void AddLrcmt_builds_a_baseline_from_configuration()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lrcmt:Architecture"] = "Lmf",
            ["Lrcmt:TextEncoder:PretrainedFolder"] = Fixtures.TinyBertFolder,
            ["Lrcmt:TextEncoder:Tuning"] = "Frozen",
            ["Lrcmt:Lmf:Rank"] = "3",
        }).Build();
        using var provider = new ServiceCollection().AddLrcmt(section.GetSection("Lrcmt")).BuildServiceProvider();

        using var model = provider.GetRequiredService<LrcmtBuilder>().BuildModel();

        var lmf = model.Should().BeOfType<BaselineModel>().Which.Fusion.Should().BeOfType<LmfFusion>().Which;
        lmf.Settings.Rank.Should().Be(3);
        model.TextEncoder.parameters().Should().OnlyContain(p => !p.requires_grad, "the description's tuning is Frozen");
    }

    [Fact]
    public void A_baseline_composed_by_hand_reports_what_it_is_made_of_but_cannot_be_saved_with_a_description()
    {
        var bert = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["query"] });
        var settings = new TfnSettings { PostFusionHidden = 5 };
        using var model = new BaselineModel(bert, new TfnFusion(bert.HiddenSize, 5, 4, outputs: 3, settings: settings));

        model.Options.Architecture.Should().Be(ModelArchitecture.Tfn);
        model.Options.Tfn.Should().Be(settings);
        model.Options.TextEncoder.Tuning.Should().Be(EncoderTuning.LoRA);
        model.Options.LoRA.TargetModules.Should().Equal("query");
        model.Options.Modalities.Should().Be(new ModalityOptions { AcousticFeatures = 5, VisualFeatures = 4 });
        model.Options.Head.Should().Be(new HeadOptions { Kind = HeadKind.Classification, Classes = 3 });
        model.Invoking(m => m.Save(Path.Combine(_root, "hand"))).Should().Throw<InvalidOperationException>().WithMessage("*composed by hand*BuildModel*");
    }

    [Fact]
    public void MAG_BERT_built_from_a_description_names_its_injection_layer_at_its_path()
    {
        var options = Small(ModelArchitecture.MagBert) with { Mag = new MagSettings { InjectionLayer = 99 } };

        var act = () => LrcmtBuilder.FromOptions(options).BuildModel();

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Single().Path.Should().Be("Mag.InjectionLayer");
    }
}
