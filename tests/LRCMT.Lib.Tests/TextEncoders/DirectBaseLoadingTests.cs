using FluentAssertions;
using LRCMT.Tests.Quantization;
using LRCMT.Tests.TestSupport;
using LRCMT.Formats.Safetensors;
using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>A base loaded straight into a half type equals one loaded in float32 and then converted, bit for bit.</summary>
public sealed class DirectBaseLoadingTests
{
    [Theory]
    [InlineData(BaseDType.BFloat16)]
    [InlineData(BaseDType.Float16)]
    public void A_half_base_built_in_its_dtype_equals_the_converted_one(BaseDType dtype)
    {
        using var direct = BertModel.FromPretrained(Fixtures.TinyBertFolder, dtype);
        using var converted = BertModel.FromPretrained(Fixtures.TinyBertFolder);
        foreach (var parameter in converted.parameters()) parameter.requires_grad = false;
        BasePrecision.Apply(converted, dtype);

        direct.state_dict().Values.Should().OnlyContain(t => t.dtype == dtype.ToScalarType());
        direct.parameters().Should().OnlyContain(p => !p.requires_grad, "a half base is frozen from the start");
        Int8BaseTests.TensorsShouldBeIdentical(direct, converted);
    }

    [Theory]
    [InlineData(BaseDType.Float32, 37)]
    [InlineData(BaseDType.BFloat16, 37)]
    [InlineData(BaseDType.Int8, 37)]  // one 64-wide row per block
    [InlineData(BaseDType.Int8, 200)] // three rows per block, a shorter last block
    public void Reading_through_small_staging_blocks_gives_the_same_base(BaseDType dtype, long blockElements)
    {
        var folder = Fixtures.TinyBertFolder;
        var checkpoint = SafetensorsFile.Load(Path.Combine(folder, "model.safetensors"));
        var (weights, _) = BertCheckpointKeys.Split(checkpoint);
        var config = BertConfig.FromFile(Path.Combine(folder, "config.json"));
        using var blockwise = new BertModel(config with { AddPoolingLayer = weights.Keys.Any(k => k.StartsWith("pooler.", StringComparison.Ordinal)) }, BaseLoading.Meta);

        BaseLoading.Fill(blockwise, BaseLoading.Source.Of(weights, "tiny-bert"), dtype, blockElements);

        using var whole = BertModel.FromPretrained(folder, dtype);
        Int8BaseTests.TensorsShouldBeIdentical(blockwise, whole);
        foreach (var tensor in checkpoint.Values) tensor.Dispose();
    }

    [Fact]
    public void A_float32_load_trains_by_default_as_before()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.Float32);
        model.parameters().Should().OnlyContain(p => p.requires_grad && p.dtype == ScalarType.Float32 && p.device.type == TorchSharp.DeviceType.CPU);
    }

    [Fact]
    public void Converting_a_base_already_in_the_dtype_keeps_its_tensors()
    {
        using var model = BertModel.FromPretrained(Fixtures.TinyBertFolder, BaseDType.BFloat16);
        var before = model.parameters().Select(p => p.Handle).ToList();

        BasePrecision.Apply(model, BaseDType.BFloat16);

        model.parameters().Select(p => p.Handle).Should().Equal(before);
    }
}
