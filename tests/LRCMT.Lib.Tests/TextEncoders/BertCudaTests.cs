using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.TextEncoders;

[Trait("Category", "GPU")]
public sealed class BertCudaTests
{
    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Tiny_bert_on_cuda_matches_hugging_face()
    {
        var io = SafetensorsFile.Load(Fixtures.TinyBertIo);
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        model.to(CUDA);
        using var _ = no_grad();
        using var ids = io["input_ids"].cuda();
        using var mask = io["attention_mask"].cuda();
        using var types = io["token_type_ids"].cuda();

        var output = model.call(ids, mask, types);

        output.LastHiddenState.device_type.Should().Be(DeviceType.CUDA);
        using var hidden = output.LastHiddenState.cpu();
        using var pooled = output.PooledOutput!.cpu();
        TinyBertParityTests.MaxAbsDifference(hidden, io["base_last_hidden_state"]).Should().BeLessThan(1e-4);
        TinyBertParityTests.MaxAbsDifference(pooled, io["base_pooler_output"]).Should().BeLessThan(1e-4);
        foreach (var tensor in io.Values) tensor.Dispose();
    }

    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Inputs_on_another_device_than_the_model_are_a_typed_error()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        model.to(CUDA);
        using var ids = ones([1, 3], ScalarType.Int64);
        using var mask = ones([1, 3]);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<LRCMT.Errors.InvalidInputException>().WithMessage("*input ids*cpu*cuda*");
    }

    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Out_of_vocabulary_ids_on_cuda_are_a_typed_error_not_a_device_assert_when_device_checks_are_on()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        model.to(CUDA);
        model.ValidateIdsOnDevice = true;
        using Scalar outOfVocabulary = 500L; // held: a Scalar made inline may be finalised while libtorch reads it
        using var ids = full([1, 3], outOfVocabulary, ScalarType.Int64, device: CUDA);
        using var mask = ones([1, 3], device: CUDA);

        var act = () => model.call(ids, mask, null);

        act.Should().Throw<LRCMT.Errors.InvalidInputException>().WithMessage("*id 500*");
    }
}
