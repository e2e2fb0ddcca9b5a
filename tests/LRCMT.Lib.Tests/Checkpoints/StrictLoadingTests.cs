using TorchSharp;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Checkpoints;

/// <summary>The shared strict path checks dtype as well as names and shapes; safetensors sizes are overflow-checked.</summary>
public sealed class StrictLoadingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-strict-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_float64_tensor_into_a_float32_parameter_is_refused_by_default_and_nothing_is_copied()
    {
        using var target = nn.Linear(3, 2);
        using var before = target.weight!.detach().clone();
        var source = new Dictionary<string, Tensor> { ["weight"] = ones(2, 3, ScalarType.Float64), ["bias"] = ones(2) };

        var act = () => StateDictLoader.Load(target, source, "f64.safetensors");

        act.Should().Throw<CheckpointMismatchException>().Which.ShapeMismatches.Should().ContainSingle()
            .Which.Should().Contain("weight").And.Contain("Float64");
        target.weight!.eq(before).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Floating_point_casts_are_allowed_only_when_asked()
    {
        using var target = nn.Linear(3, 2);
        using Scalar half = 0.5; // held: a Scalar made inline may be finalised while libtorch reads it
        var source = new Dictionary<string, Tensor> { ["weight"] = full(2, 3, half, ScalarType.Float16), ["bias"] = ones(2) };

        StateDictLoader.Load(target, source, "f16.safetensors", StateDictLoadOptions.Strict with { CastFloatingPoint = true });

        target.weight!.data<float>().ToArray().Should().AllBeEquivalentTo(0.5f);
    }

    [Fact]
    public void An_integer_tensor_into_a_float_parameter_is_refused_even_with_casts()
    {
        using var target = nn.Linear(3, 2);
        var source = new Dictionary<string, Tensor> { ["weight"] = ones(2, 3, ScalarType.Int64), ["bias"] = ones(2) };

        var act = () => StateDictLoader.Load(target, source, "int.safetensors", StateDictLoadOptions.Strict with { CastFloatingPoint = true });

        act.Should().Throw<CheckpointMismatchException>().WithMessage("*Int64*");
    }

    private string Write(string header)
    {
        string path = Path.Combine(_folder, $"{Guid.NewGuid():N}.safetensors");
        var json = System.Text.Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        stream.Write(new byte[16]);
        return path;
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}""")] // 2^64 elements: 0 unchecked
    [InlineData("""{"t":{"dtype":"F32","shape":[9223372036854775807,9223372036854775807],"data_offsets":[0,16]}}""")]
    [InlineData("""{"t":[1,2,3]}""")]
    [InlineData("""{"t":{"dtype":5,"shape":[1],"data_offsets":[0,4]}}""")]
    public void Lying_headers_are_corrupt_files_before_any_allocation(string header)
    {
        string path = Write(header);

        var act = () => SafetensorsFile.Load(path);

        act.Should().Throw<CorruptFileException>().Which.Path.Should().Be(path);
    }
}
