using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Errors;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Formats;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lrcmt-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reads_the_reference_fixture_written_by_python()
    {
        var io = SafetensorsFile.Load(Fixtures.TinyBertIo);
        var vocab = File.ReadAllLines(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"));

        io["input_ids"].shape.Should().Equal(2, 9);
        io["input_ids"].dtype.Should().Be(ScalarType.Int64);
        // Each encoded sentence starts with [CLS]; its id is its line number in vocab.txt.
        io["input_ids"][0, 0].item<long>().Should().Be(Array.IndexOf(vocab, "[CLS]"));
        // The attention mask is 1 exactly where ids are not [PAD].
        using Scalar pad = Array.IndexOf(vocab, "[PAD]"); // held: a Scalar made inline may be finalised while libtorch reads it
        io["attention_mask"].eq(io["input_ids"].ne(pad).to(ScalarType.Int64)).all().item<bool>().Should().BeTrue();
        io["base_last_hidden_state"].shape.Should().Equal(2, 9, 64);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Bool)]
    public void Round_trips_every_supported_dtype(ScalarType dtype)
    {
        using Scalar ten = 10;
        using var original = (randn(3, 5) * ten).to(dtype);
        var path = Path.Combine(_dir, "a.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["x"] = original, ["empty"] = zeros(0, 4) });

        var loaded = SafetensorsFile.Load(path);
        loaded["x"].dtype.Should().Be(dtype);
        loaded["x"].eq(original).all().item<bool>().Should().BeTrue();
        loaded["empty"].shape.Should().Equal(0, 4);
    }

    [Fact]
    public void A_range_of_elements_is_read_straight_into_a_tensor()
    {
        using Scalar start = 100, stop = 115;
        using var first = RootedScalars.Arange(7, ScalarType.Float32, CPU);
        using var second = arange(start, stop, RootedScalars.One, dtype: ScalarType.Float32).reshape(5, 3);
        var path = Path.Combine(_dir, "r.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["a"] = first, ["b"] = second });
        var header = SafetensorsFile.ReadHeader(path);
        using var stream = File.OpenRead(path);

        using var rows = empty(2, 3);
        SafetensorsFile.ReadElements(stream, header, header.Entries["b"], 6, rows); // rows 2 and 3 of b
        using var flat = empty(4);
        SafetensorsFile.ReadElements(stream, header, header.Entries["b"], 11, flat); // the last 4 elements of b

        rows.eq(second[TensorIndex.Slice(2, 4)]).all().item<bool>().Should().BeTrue();
        flat.eq(second.reshape(-1)[TensorIndex.Slice(11)]).all().item<bool>().Should().BeTrue();
        var pastTheEnd = () => SafetensorsFile.ReadElements(stream, header, header.Entries["b"], 12, empty(4));
        pastTheEnd.Should().Throw<ArgumentException>().WithMessage("*past 'b'*");
        var otherDtype = () => SafetensorsFile.ReadElements(stream, header, header.Entries["b"], 0, empty(4, ScalarType.Float64));
        otherDtype.Should().Throw<ArgumentException>().WithMessage("*Float32*");
    }

    [Fact]
    public void Overwriting_a_larger_file_leaves_no_stale_bytes()
    {
        var path = Path.Combine(_dir, "b.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["big"] = ones(1000) });
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["small"] = ones(2) });

        var header = SafetensorsFile.ReadHeader(path);
        header.Entries.Keys.Should().Equal("small");
        new FileInfo(path).Length.Should().Be(header.DataStart + 8);
    }

    [Fact]
    public void Truncated_file_names_the_tensor_and_offset()
    {
        var path = Path.Combine(_dir, "c.safetensors");
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(100) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);

        var act = () => SafetensorsFile.Load(path);
        var error = act.Should().Throw<CorruptFileException>().Which;
        error.Path.Should().Be(path);
        error.Offset.Should().Be(bytes.Length);
        error.Message.Should().Contain("'w'").And.Contain("truncated");
    }

    [Fact]
    public void Garbage_header_is_reported_as_corrupt()
    {
        var path = Path.Combine(_dir, "d.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(5UL), .. "{oops"u8.ToArray()]);
        FluentActions.Invoking(() => SafetensorsFile.Load(path)).Should().Throw<CorruptFileException>().WithMessage("*not valid JSON*");

        File.WriteAllBytes(path, [1, 2, 3]);
        FluentActions.Invoking(() => SafetensorsFile.Load(path)).Should().Throw<CorruptFileException>().WithMessage("*too short*");

        File.WriteAllBytes(path, BitConverter.GetBytes(1UL << 40));
        FluentActions.Invoking(() => SafetensorsFile.Load(path)).Should().Throw<CorruptFileException>().WithMessage("*exceeds the file*");
    }

    [Fact]
    public void Header_whose_offsets_disagree_with_the_shape_is_corrupt()
    {
        var path = Path.Combine(_dir, "e.safetensors");
        var json = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"""u8.ToArray();
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. new byte[16]]);

        FluentActions.Invoking(() => SafetensorsFile.Load(path)).Should().Throw<CorruptFileException>()
            .WithMessage("*'w'*needs 16 bytes*span 12*");
    }
}
