using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Training;

public class TrainerOptionsBoundsTests
{
    [Theory]
    [InlineData(nameof(TrainerOptions.LearningRate))]
    [InlineData(nameof(TrainerOptions.AdapterLearningRate))]
    [InlineData(nameof(TrainerOptions.WeightDecay))]
    [InlineData(nameof(TrainerOptions.MaxGradientNorm))]
    [InlineData(nameof(TrainerOptions.EncoderLearningRate))]
    public void Infinite_hyper_parameters_are_refused(string name)
    {
        var options = name switch
        {
            nameof(TrainerOptions.LearningRate) => new TrainerOptions { LearningRate = double.PositiveInfinity },
            nameof(TrainerOptions.AdapterLearningRate) => new TrainerOptions { AdapterLearningRate = double.PositiveInfinity },
            nameof(TrainerOptions.WeightDecay) => new TrainerOptions { WeightDecay = double.PositiveInfinity },
            nameof(TrainerOptions.MaxGradientNorm) => new TrainerOptions { MaxGradientNorm = double.PositiveInfinity },
            _ => new TrainerOptions { EncoderLearningRate = double.PositiveInfinity },
        };

        var act = options.Validate;

        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Should().ContainSingle().Which.Should().Match<SettingProblem>(p => p.Path == name && p.Message.Contains("finite"));
    }

    [Fact]
    public void Default_options_are_valid() => new TrainerOptions().Validate();
}
