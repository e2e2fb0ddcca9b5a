using FluentAssertions;
using LRCMT.TextEncoders;
using LRCMT.TextEncoders.Bert;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// The validator must not read tensor values off the CPU (a host sync per forward on CUDA). Tensors on the
/// "meta" device have shapes and dtypes but no values: any attempt to read one (item, min/max read back) throws,
/// so a validator that passes on meta tensors provably reads metadata only.
/// </summary>
public sealed class BertInputValidatorSyncTests
{
    private static readonly BertConfig Tiny = new() { VocabSize = 50, MaxPositionEmbeddings = 8 };

    [Fact]
    public void Off_the_cpu_the_default_validation_reads_no_tensor_values()
    {
        using var ids = zeros([2, 5], ScalarType.Int64, device: META);
        using var mask = ones([2, 5], device: META);
        using var types = zeros([2, 5], ScalarType.Int64, device: META);

        var act = () => BertInputValidator.Validate(Tiny, META, ids, mask, types);

        act.Should().NotThrow();
    }

    [Fact]
    public void Asking_for_device_range_checks_does_read_values_so_the_meta_probe_can_fail()
    {
        using var ids = zeros([2, 5], ScalarType.Int64, device: META);
        using var mask = ones([2, 5], device: META);

        var act = () => BertInputValidator.Validate(Tiny, META, ids, mask, null, rangeOnDevice: true);

        act.Should().Throw<Exception>();
    }

    [Fact]
    public void Metadata_errors_are_still_reported_off_the_cpu()
    {
        using var ids = zeros([2, 5], ScalarType.Int32, device: META);
        using var mask = ones([2, 5], device: META);

        var act = () => BertInputValidator.Validate(Tiny, META, ids, mask, null);

        act.Should().Throw<LRCMT.Errors.InvalidInputException>().WithMessage("*Int64*");
    }
}
