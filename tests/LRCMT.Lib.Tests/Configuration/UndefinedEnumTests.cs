using System.Text;
using FluentAssertions;
using LRCMT.Configuration;
using LRCMT.Errors;
using LRCMT.Evaluation;
using LRCMT.LowRank;
using LRCMT.Models;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using LRCMT.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace LRCMT.Tests.Configuration;

/// <summary>
/// An enum value that names no member (a cast, or a number a configuration binder accepted) is refused by every entry
/// point that takes one, with a message naming the field and the value, instead of running as another choice.
/// </summary>
public class UndefinedEnumTests
{
    [Theory]
    [InlineData(nameof(TrainerOptions.Decay), "42")]
    [InlineData(nameof(TrainerOptions.Loss), "9")]
    [InlineData(nameof(TrainerOptions.Dataset), "7")]
    public void Trainer_options_refuse_an_undefined_decay_loss_or_dataset(string field, string value)
    {
        var options = field switch
        {
            nameof(TrainerOptions.Decay) => new TrainerOptions { Decay = (LearningRateDecay)42 },
            nameof(TrainerOptions.Loss) => new TrainerOptions { Loss = (TrainingLoss)9 },
            _ => new TrainerOptions { Dataset = (MsaDataset)7 },
        };

        var act = () => new Trainer(options);

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle()
            .Which.Should().Match<SettingProblem>(p => p.Path == field && p.Message.EndsWith($"got {value}"));
    }

    [Fact]
    public void Lora_config_refuses_an_undefined_init_and_bias_naming_both()
    {
        var config = new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query"], Init = (LoRAInit)42, Bias = (LoRABias)9 };

        var problems = config.Invoking(c => c.Validate()).Should().Throw<InvalidConfigurationException>().Which.Problems;

        problems.Should().Contain(p => p.Path == "Init" && p.Message.EndsWith("got 42") && p.Message.Contains(nameof(LoRAInit.Gaussian)))
            .And.Contain(p => p.Path == "Bias" && p.Message.EndsWith("got 9"));
    }

    [Fact]
    public void The_description_refuses_an_undefined_interaction_and_head()
    {
        var options = new LrcmtOptions { Interaction = new InteractionOptions { Mode = (InteractionMode)5 }, Head = new HeadOptions { Kind = (HeadKind)3 } };

        options.FindProblems().Should().Contain(p => p.Path == "Interaction.Mode" && p.Message.EndsWith("got 5"))
            .And.Contain(p => p.Path == "Head.Kind" && p.Message.EndsWith("got 3"));
    }

    [Fact]
    public void Builder_refuses_an_undefined_encoder_tuning_and_base_dtype()
    {
        var options = new LrcmtOptions
        {
            TextEncoder = new TextEncoderOptions { PretrainedFolder = Fixtures.TinyBertFolder, Tuning = (EncoderTuning)9, BaseDType = (BaseDType)8 },
        };

        var act = () => LrcmtBuilder.FromOptions(options).Build();

        act.Should().Throw<InvalidConfigurationException>().Which.Problems
            .Should().Contain(p => p.Path == "TextEncoder.Tuning" && p.Message.EndsWith("got 9"))
            .And.Contain(p => p.Path == "TextEncoder.BaseDType" && p.Message.EndsWith("got 8"));
    }

    [Fact]
    public void Start_up_validation_refuses_numbers_the_binder_accepted_as_enums()
    {
        string json = $$"""
            { "Lrcmt": { "TextEncoder": { "PretrainedFolder": "{{Fixtures.TinyBertFolder.Replace("\\", "\\\\")}}" },
                         "Interaction": { "Mode": "42" }, "Head": { "Kind": "7" } } }
            """;
        var section = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection(LrcmtOptions.SectionName);
        using var provider = new ServiceCollection().AddLrcmt(section).BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should()
            .Contain(f => f.StartsWith("Interaction.Mode: must be one of") && f.EndsWith("got 42"))
            .And.Contain(f => f.StartsWith("Head.Kind: must be one of") && f.EndsWith("got 7"));
    }

    [Fact]
    public void Msa_metrics_refuse_an_undefined_dataset_at_every_entry_point()
    {
        float[] predictions = [0.5f, -1f], truths = [1f, -2f];

        foreach (var act in new Action[]
                 {
                     () => MsaMetrics.Compute((MsaDataset)7, predictions, truths),
                     () => MsaMetrics.NamesFor((MsaDataset)7),
                 })
            act.Should().Throw<InvalidConfigurationException>().WithMessage("*dataset: must be one of*got 7*");
    }

    [Fact]
    public void Sentiment_classes_refuse_an_undefined_dataset()
    {
        // Two classes is a count MOSI supports, so only the dataset check can refuse these.
        var classes = new SentimentClasses((MsaDataset)7, 2);

        classes.FindProblems().Should().ContainSingle().Which.Should().Be(new SettingProblem("Dataset", "must be one of Mosi, Mosei, Sims, got 7"));
        classes.Invoking(c => c.ClassOf(0.5f)).Should().Throw<InvalidConfigurationException>();
        FluentActions.Invoking(() => SentimentClasses.SupportedCounts((MsaDataset)7)).Should().Throw<InvalidConfigurationException>().WithMessage("*Dataset: must be one of*got 7*");
    }
}
