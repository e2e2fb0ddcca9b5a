using TorchSharp;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

public sealed class BertModelInputValidationTests : IDisposable
{
    private static readonly BertConfig Tiny = new()
    {
        VocabSize = 50, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32,
        MaxPositionEmbeddings = 8, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    };

    private readonly BertModel model = new(Tiny);

    [Fact]
    public void Ids_of_rank_other_than_two_are_a_shape_error()
    {
        using var ids = zeros([2, 3, 1], ScalarType.Int64);
        using var mask = ones([2, 3, 1]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<ShapeMismatchException>().Which.Actual.Should().Equal(2, 3, 1);
    }

    [Fact]
    public void An_empty_batch_is_a_shape_error()
    {
        using var ids = zeros([0, 3], ScalarType.Int64);
        using var mask = ones([0, 3]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<ShapeMismatchException>().Which.Actual.Should().Equal(0, 3);
    }

    [Fact]
    public void Inputs_on_another_device_than_the_model_are_rejected_naming_both()
    {
        // The meta device stands in for a GPU here: any device other than the model's must be refused.
        using var ids = zeros([1, 3], ScalarType.Int64, device: META);
        using var mask = ones([1, 3]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<InvalidInputException>().WithMessage("*input ids*meta*cpu*");
    }

    [Fact]
    public void Float_ids_are_rejected_naming_the_dtype()
    {
        using var ids = zeros([1, 3]);
        using var mask = ones([1, 3]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<InvalidInputException>().WithMessage("*input ids*Int64*Float32*");
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_rejected_naming_the_id()
    {
        using var ids = tensor(new long[] { 1, 50, 2 }).unsqueeze(0);
        using var negative = tensor(new long[] { 1, -1, 2 }).unsqueeze(0);
        using var mask = ones([1, 3]);

        ((Action)(() => model.call(ids, mask, null))).Should().Throw<InvalidInputException>().WithMessage("*id 50*[0, 50)*");
        ((Action)(() => model.call(negative, mask, null))).Should().Throw<InvalidInputException>().WithMessage("*id -1*");
    }

    [Fact]
    public void Sequences_longer_than_the_position_table_are_a_shape_error()
    {
        using var ids = zeros([1, 9], ScalarType.Int64);
        using var mask = ones([1, 9]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<ShapeMismatchException>().WithMessage("*input ids*8*[1, 9]*");
    }

    [Fact]
    public void A_mask_or_type_ids_of_another_shape_are_a_shape_error()
    {
        using var ids = zeros([2, 4], ScalarType.Int64);
        using var mask = ones([2, 3]);
        using var goodMask = ones([2, 4]);
        using var types = zeros([4, 2], ScalarType.Int64);

        ((Action)(() => model.call(ids, mask, null))).Should().Throw<ShapeMismatchException>().WithMessage("attention mask*");
        ((Action)(() => model.call(ids, goodMask, types))).Should().Throw<ShapeMismatchException>().WithMessage("token type ids*");
    }

    [Fact]
    public void Token_types_outside_the_type_table_are_rejected()
    {
        using var ids = zeros([1, 2], ScalarType.Int64);
        using var mask = ones([1, 2]);
        using Scalar two = 2L; // held: a Scalar made inline may be finalised while libtorch reads it
        using var types = full([1, 2], two, ScalarType.Int64);

        var act = () => model.call(ids, mask, types);

        act.Should().Throw<InvalidInputException>().WithMessage("*token type ids*id 2*");
    }

    [Fact]
    public void Bool_and_integer_masks_give_the_same_states()
    {
        using var _ = no_grad();
        model.eval();
        using var ids = tensor(new long[] { 2, 7, 9, 0, 3, 4, 5, 6 }).view(2, 4);
        using var longMask = tensor(new long[] { 1, 1, 1, 0, 1, 1, 1, 1 }).view(2, 4);
        using var boolMask = longMask.to_type(ScalarType.Bool);

        var fromLong = model.call(ids, longMask, null).LastHiddenState;
        var fromBool = model.call(ids, boolMask, null).LastHiddenState;

        TinyBertParityTests.MaxAbsDifference(fromBool, fromLong).Should().Be(0);
    }

    public void Dispose() => model.Dispose();
}
