using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Fusion;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Fusion;

public class MaskedSequenceMeanTests
{
    [Fact]
    public void Mean_covers_only_real_positions_and_an_empty_row_pools_to_zero()
    {
        using var values = tensor(new float[] { 1, 2, 3, 100, 4, 5, 6, 7, float.NaN, 8, 9, float.PositiveInfinity }).view(3, 2, 2);
        using var mask = tensor(new[] { true, false, true, true, false, false }).view(3, 2);

        using var pooled = new MaskedSequence(values, mask).Mean();

        pooled.data<float>().ToArray().Should().Equal(1, 2, 5, 6, 0, 0);
    }

    [Fact]
    public void A_mask_of_another_length_is_rejected()
    {
        using var values = zeros(2, 3, 4);
        using var mask = ones(2, 5, dtype: ScalarType.Bool);

        var act = () => new MaskedSequence(values, mask).Mean();

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("[2, 5]"));
    }
}
