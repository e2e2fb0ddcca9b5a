using FluentAssertions;
using LRCMT.Errors;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Models;

/// <summary>Acoustic and visual frames must have the model's dtype: float64 and float16 are refused, not cast (issue 12).</summary>
public class BatchDTypeTests
{
    [Theory]
    [InlineData(ScalarType.Float64, "acoustic")]
    [InlineData(ScalarType.Float16, "visual")]
    public void Frames_of_another_floating_dtype_are_a_typed_error_naming_the_modality(ScalarType dtype, string modality)
    {
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();
        var bad = modality == "acoustic" ? batch with { Acoustic = batch.Acoustic.to(dtype) } : batch with { Visual = batch.Visual.to(dtype) };

        var act = () => model.call(bad);

        act.Should().Throw<InvalidInputException>().Which.Message.Should().Contain(modality).And.Contain(dtype.ToString()).And.Contain("Float32");
    }

    [Fact]
    public void Float32_frames_pass_so_the_check_is_what_refuses_the_others()
    {
        using var model = ModelTestData.Model();
        using var batch = ModelTestData.Batch();

        using var output = model.call(batch);

        output.shape.Should().Equal(2);
    }
}
