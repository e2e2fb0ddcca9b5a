using FluentAssertions;
using LRCMT.Training;
using Xunit;

namespace LRCMT.Tests.Training;

/// <summary>
/// When the library may apply the inference heap policy by itself (NativeHeap's remarks). The rules are checked on a
/// <see cref="HeapPolicyChoice"/> with a recording stand-in for glibc, so the test process's own heap is not changed.
/// </summary>
public sealed class HeapPolicyChoiceTests
{
    private readonly List<HeapPolicy> _applied = [];

    private HeapPolicyChoice Create(bool automatic = true, bool supported = true) => new(policy =>
    {
        _applied.Add(policy);
        return supported;
    }, automatic);

    [Fact]
    public void The_first_cpu_inference_forward_applies_the_inference_policy_once()
    {
        var choice = Create();

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeTrue();
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();

        _applied.Should().Equal(HeapPolicy.Inference);
        choice.Current.Should().Be(HeapPolicy.Inference);
    }

    [Theory]
    [InlineData(false, true, true)]   // eval mode, gradients on (e.g. a validation pass someone forgot to wrap)
    [InlineData(true, false, true)]   // training mode under no_grad
    [InlineData(false, false, false)] // on a GPU: glibc's heap does not hold the tensors
    public void Forwards_that_are_not_cpu_inference_change_nothing_and_decide_nothing(bool training, bool gradients, bool onCpu)
    {
        var choice = Create();

        choice.EncoderForward(training, gradients, onCpu).Should().BeFalse();
        _applied.Should().BeEmpty();

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeTrue("nothing was decided yet");
    }

    [Fact]
    public void A_training_forward_first_keeps_later_evaluation_passes_from_switching_the_heap()
    {
        var choice = Create();

        choice.EncoderForward(training: true, gradients: true, onCpu: true).Should().BeFalse();
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();

        _applied.Should().BeEmpty();
        choice.Current.Should().Be(HeapPolicy.Default);
    }

    [Fact]
    public void A_trainer_run_first_keeps_its_evaluation_passes_from_switching_the_heap()
    {
        var choice = Create();

        choice.TrainingStarted();

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();
        _applied.Should().BeEmpty();
    }

    [Theory]
    [InlineData(HeapPolicy.Default)]
    [InlineData(HeapPolicy.Training)]
    [InlineData(HeapPolicy.Inference)]
    public void A_callers_choice_first_is_never_overridden(HeapPolicy chosen)
    {
        var choice = Create();

        choice.Choose(chosen).Should().BeTrue();
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();

        _applied.Should().Equal(chosen);
        choice.Current.Should().Be(chosen);
    }

    [Fact]
    public void With_the_process_opted_out_nothing_is_applied()
    {
        var choice = Create(automatic: false);

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();

        _applied.Should().BeEmpty();
        choice.Current.Should().Be(HeapPolicy.Default);
    }

    [Fact]
    public void A_callers_choice_after_the_automatic_one_wins()
    {
        var choice = Create();
        choice.EncoderForward(training: false, gradients: false, onCpu: true);

        choice.Choose(HeapPolicy.Training);

        _applied.Should().Equal(HeapPolicy.Inference, HeapPolicy.Training);
        choice.Current.Should().Be(HeapPolicy.Training);
    }

    [Fact]
    public void Off_glibc_the_policy_is_reported_as_not_applied_and_not_tried_again()
    {
        var choice = Create(supported: false);

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();

        _applied.Should().Equal(HeapPolicy.Inference);
        choice.Current.Should().Be(HeapPolicy.Default);
    }

    [Fact]
    public void A_variant_of_a_policy_is_applied_through_the_callers_own_action()
    {
        var choice = Create();
        bool ran = false;

        choice.Choose(HeapPolicy.Training, () => ran = true).Should().BeTrue();

        ran.Should().BeTrue();
        _applied.Should().BeEmpty("the variant replaces the standard setting");
        choice.Current.Should().Be(HeapPolicy.Training);
    }
}
