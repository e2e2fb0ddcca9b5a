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
    private readonly List<bool> _prepared = [];

    private HeapPolicyChoice Create(bool automatic = true, bool supported = true) => new(policy =>
    {
        _applied.Add(policy);
        return supported;
    }, _prepared.Add, automatic);

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

        choice.TrainingRun(null); // TrainerOptions.LimitNativeHeapGrowth = false: the run chooses nothing

        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse();
        _applied.Should().BeEmpty();
    }

    [Fact]
    public void A_trainer_run_with_a_frozen_encoder_keeps_blocks_in_the_heap_and_a_later_full_fine_tuning_run_limits_it()
    {
        var choice = Create();

        choice.TrainingRun(HeapPolicy.Inference).Should().Be(HeapPolicy.Inference);
        choice.TrainingRun(HeapPolicy.Training).Should().Be(HeapPolicy.Training);
        choice.TrainingRun(HeapPolicy.Inference).Should().Be(HeapPolicy.Inference, "each run gets the trainer's own choice for it");

        _applied.Should().Equal(HeapPolicy.Inference, HeapPolicy.Training, HeapPolicy.Inference);
        choice.Current.Should().Be(HeapPolicy.Inference);
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeFalse("training decided");
    }

    [Theory]
    [InlineData(HeapPolicy.Default)]
    [InlineData(HeapPolicy.Training)]
    public void A_callers_choice_outlasts_the_trainers_automatic_one_but_not_its_explicit_option(HeapPolicy chosen)
    {
        var choice = Create();
        choice.Choose(chosen);

        choice.TrainingRun(HeapPolicy.Inference).Should().BeNull("the caller chose");
        choice.TrainingRun(HeapPolicy.Training).Should().Be(HeapPolicy.Training, "LimitNativeHeapGrowth or a training encoder asks for it");

        _applied.Should().Equal(chosen, HeapPolicy.Training);
    }

    [Fact]
    public void With_the_process_opted_out_a_frozen_training_run_changes_nothing()
    {
        var choice = Create(automatic: false);

        choice.TrainingRun(HeapPolicy.Inference).Should().BeNull();

        _applied.Should().BeEmpty();
        choice.Current.Should().Be(HeapPolicy.Default);
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

    [Fact]
    public void Building_an_encoder_prepares_the_heap_once_and_an_inference_forward_completes_the_policy()
    {
        var choice = Create();

        choice.EncoderLoading().Should().BeTrue();
        choice.EncoderLoading().Should().BeFalse("the heap is prepared already");
        choice.Current.Should().Be(HeapPolicy.Default, "a prepared heap is not yet the inference policy");
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeTrue();

        _prepared.Should().Equal(true);
        _applied.Should().Equal(HeapPolicy.Inference);
    }

    [Theory]
    [InlineData(true, true, true)]    // a training forward
    [InlineData(false, false, false)] // a forward on a GPU
    public void A_forward_that_does_not_lead_to_the_inference_policy_undoes_the_preparation(bool training, bool gradients, bool onCpu)
    {
        var choice = Create();
        choice.EncoderLoading();

        choice.EncoderForward(training, gradients, onCpu).Should().BeFalse();
        choice.EncoderForward(training, gradients, onCpu);

        _prepared.Should().Equal(true, false);
        _applied.Should().BeEmpty();
    }

    [Fact]
    public void A_mixed_forward_keeps_the_preparation_for_the_inference_forward_that_may_follow()
    {
        var choice = Create();
        choice.EncoderLoading();

        choice.EncoderForward(training: true, gradients: false, onCpu: true).Should().BeFalse();
        choice.EncoderForward(training: false, gradients: false, onCpu: true).Should().BeTrue();

        _prepared.Should().Equal(true);
    }

    [Fact]
    public void A_trainer_run_or_a_callers_default_undoes_the_preparation_and_other_choices_replace_it()
    {
        var trainer = Create();
        trainer.EncoderLoading();
        trainer.TrainingRun(null);
        trainer.EncoderLoading().Should().BeFalse("training was seen: nothing is prepared any more");
        _prepared.Should().Equal(true, false);

        _prepared.Clear();
        var glibc = Create();
        glibc.EncoderLoading();
        glibc.Choose(HeapPolicy.Default);
        _prepared.Should().Equal(true, false);

        _prepared.Clear();
        var training = Create();
        training.EncoderLoading();
        training.Choose(HeapPolicy.Training);
        _prepared.Should().Equal(new[] { true }, "the training policy sets every option the preparation touched");
    }

    [Fact]
    public void Nothing_is_prepared_when_the_process_opted_out_or_a_caller_chose_first()
    {
        Create(automatic: false).EncoderLoading().Should().BeFalse();
        var chosen = Create();
        chosen.Choose(HeapPolicy.Inference);
        chosen.EncoderLoading().Should().BeFalse();

        _prepared.Should().BeEmpty();
    }
}
